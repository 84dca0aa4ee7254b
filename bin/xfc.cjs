#!/usr/bin/env node
// The installed `xfc` command: loads the compiled CLI. It leaves libuv's thread pool at its default size: the
// native walker keeps many metadata requests in flight on its own threads (lib/walker/native), and a larger pool
// only cost start-up, because Node's ES-module loader reads files through the pool and so started all of its
// threads for every command (64 threads were 60 more clone3 calls before `xfc scan` reached its first directory).
'use strict';
import('../dist/cli/main.js').catch((err) => {
  console.error(err);
  process.exit(1);
});
