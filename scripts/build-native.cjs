#!/usr/bin/env node
/**
 * `npm run build:native` (and `npm ci`, through the install script): compiles the native walker (lib/walker/native/*.c,
 * binding.gyp) into build/Release/xfc_walker.node with node-gyp, which npm ships. Says plainly which tools are
 * missing (python3, make, a C compiler) instead of failing deep inside node-gyp, and builds offline against the
 * headers that come with the Node installation when they are there.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const { delimiter } = path;
const dirname = (/** @type {string} */ p) => path.dirname(p);
const join = (/** @type {string[]} */ ...parts) => path.join(...parts);
const resolve = (/** @type {string[]} */ ...parts) => path.resolve(...parts);

const repo = resolve(__dirname, '..');

/** @param {string} command */
function onPath(command) {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

function missingTools() {
  const missing = [];
  const python = process.env.npm_config_python || process.env.PYTHON;
  if (!(python ? onPath(python) : onPath('python3'))) missing.push('python3');
  if (!onPath('make')) missing.push('make');
  const cc = process.env.CC || 'cc';
  if (!onPath(cc) && !onPath('gcc') && !onPath('clang')) missing.push('a C compiler (gcc or clang)');
  return missing;
}

/** node-gyp: the one npm runs scripts with, else the copy inside npm's own installation. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    process.env.npm_execpath &&
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path && existsSync(path));
}

/** Node's own headers (Debian's nodejs, the official images and tarballs install them): no download needed. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function main() {
  const missing = missingTools();
  if (missing.length > 0) {
    console.error(
      `xfc: cannot build the native walker: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing.\n` +
        '  Install them (Debian/Ubuntu: apt-get install -y python3 make g++) and run `npm ci` again.',
    );
    return 1;
  }
  const gyp = nodeGyp();
  if (!gyp) {
    console.error('xfc: cannot build the native walker: node-gyp was not found (it comes with npm); reinstall npm.');
    return 1;
  }
  const args = [gyp, 'rebuild'];
  const dir = nodeDir();
  if (dir) args.push(`--nodedir=${dir}`);
  const result = spawnSync(process.execPath, args, { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `xfc: building the native walker failed (node-gyp exit ${result.status ?? result.signal}); see above.` +
        (dir ? '' : ' Node headers were not found beside node; node-gyp needs them (set npm_config_nodedir).'),
    );
    return 1;
  }
  return 0;
}

process.exitCode = main();
