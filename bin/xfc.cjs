#!/usr/bin/env node
// The installed `xfc` command. It is CommonJS on purpose: libuv sizes its thread pool once, when the pool first
// starts, and an ES-module entry starts it while its modules load — before any of our code could set the size.
// 64 threads let a walk keep 64 metadata requests in flight on a latency-bound filesystem (PanFS; see
// BENCHMARKS.md: 7.5× faster than du with 64, 3.3× with libuv's default of 4). An explicit setting wins.
'use strict';
process.env.UV_THREADPOOL_SIZE ??= '64';
import('../dist/cli/main.js').catch((err) => {
  console.error(err);
  process.exit(1);
});
