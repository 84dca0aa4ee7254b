#!/usr/bin/env node
// The installed `xfc` command runs the compiled CLI (`npm ci` builds it through the `prepare` script).
// During development `npm run xfc -- <args>` runs the TypeScript sources directly.
import '../dist/cli/main.js';
