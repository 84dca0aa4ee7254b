/**
 * `npm run bench:scan [-- --runs N] [--only NAME] [--latfs] [--latfs-only]`: how fast and how lean `xfc scan` is
 * beside `du -s --apparent-size`, `ncdu` and `gdu` on the same trees, in the same run (the machine is shared: a
 * figure is a ratio to du measured in the same rounds, never an absolute time from another run).
 *
 * Builds (once, cached under $TMPDIR/xfc-bench) a realistic 200k-file tree (~1,600 directories), a flat directory
 * of 200k files, a 1M-file tree and a single directory of 2,000,000 empty files (made by test/support/mkfiles.c);
 * compiles xfc (tsc -p tsconfig.build.json into the cache, so a concurrent `npm run build` is not disturbed; the
 * native addon, when the walker has one, is used from the repository's build/) and runs, in turn:
 *   du -s --apparent-size TREE · ncdu -0 -o /dev/null TREE · gdu -n -s -p -a TREE ·
 *   node <cache>/dist/cli/main.js scan --json TREE (libuv's default thread pool, as bin/xfc.cjs leaves it)
 * after a warm-up run of du and xfc, N rounds (default 5; at most 3 on tree-1m and 1 on the 2M directory, which is
 * there for its memory figure), reporting the median wall time, its ratio to du, the median CPU time and the peak
 * RSS (/usr/bin/time). It also walks each tree once through the walk API in a child process and reports the
 * largest event-loop delay of the calling thread (monitorEventLoopDelay).
 * With --latfs it mounts ../shared/tools/latfs's 30,000-file tree at 300 µs per operation (needs root, /dev/fuse
 * and: apt-get install -y libfuse3-dev fuse3 pkg-config gcc) and compares du, gdu, gdu with GOMAXPROCS=16 and xfc.
 * The output is markdown, ready for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seededRandom } from '../../lib/common/random.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = join(tmpdir(), 'xfc-bench');
/** Bump when the generator changes, so cached trees are rebuilt. */
const TREE_VERSION = 2;

interface Options {
  runs: number;
  only: string | null;
  latfs: boolean;
  local: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 5, only: null, latfs: false, local: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Math.max(1, Number(argv[++i]));
    else if (arg === '--only') options.only = argv[++i] ?? null;
    else if (arg === '--latfs') options.latfs = true;
    else if (arg === '--latfs-only') {
      options.latfs = true;
      options.local = false;
    } else throw new Error(`unknown option ${arg}; see the comment at the top of test/bench/scan.ts`);
  }
  return options;
}

// ---- trees ----------------------------------------------------------------------------------------------------

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const filler = Buffer.alloc(4096, 0x2a);

/** A file of `size` bytes: real data up to 4 KiB, sparse beyond (the walk only reads metadata). */
function makeFile(path: string, size: number): void {
  const fd = fs.openSync(path, 'w');
  if (size <= filler.length) {
    if (size > 0) fs.writeSync(fd, filler, 0, size);
  } else {
    fs.ftruncateSync(fd, size);
  }
  fs.closeSync(fd);
}

/** Lognormal file sizes around 100 KB with a long tail (a few files of many GB), as in scientific scratch data. */
function fileSize(rand: () => number): number {
  return Math.min(Math.round(Math.exp(11.5 + 2.6 * gaussian(rand))), 2 ** 40);
}

const dirWords = ['run', 'output', 'data', 'ERA5', 'cmip6', 'ens', 'tmp', 'plots', 'restart', 'logs', 'year'];
const fileWords = ['tas', 'pr', 'uas', 'vas', 'psl', 'hus', 'zg', 'ta'];
const extensions = ['.nc', '.nc', '.nc', '.grib', '.h5', '.txt', '.log', '.png', '.csv', '.py'];

/**
 * A work directory as users leave them: ~20 projects, nested run/output directories up to 9 deep, directory sizes
 * from one file to thousands (lognormal), 1% symlinks, a few hard links, names with dates and numbers.
 */
function makeRealisticTree(root: string, files: number, seed: number): void {
  const rand = seededRandom(seed);
  fs.mkdirSync(root, { recursive: true });
  const dirs: Array<{ path: string; depth: number }> = [{ path: root, depth: 0 }];
  for (let p = 0; p < 20; p++) {
    const path = join(root, `project-${String(p).padStart(2, '0')}`);
    fs.mkdirSync(path);
    dirs.push({ path, depth: 1 });
  }
  // ~125 files per directory on average: 1,600 directories for 200k files, as the anchor tree.
  const directoryCount = Math.round(files / 125);
  for (let i = dirs.length; i < directoryCount; i++) {
    let parent = dirs[Math.floor(rand() * dirs.length)] as { path: string; depth: number };
    // Prefer recent directories as parents: deeper, narrower trees, like real run hierarchies.
    if (rand() < 0.5) parent = dirs[Math.max(1, dirs.length - 1 - Math.floor(rand() * 50))] as typeof parent;
    if (parent.depth >= 9 || parent.depth === 0) parent = dirs[1 + Math.floor(rand() * 20)] as typeof parent;
    const word = dirWords[Math.floor(rand() * dirWords.length)] as string;
    const path = join(parent.path, `${word}${String(i).padStart(5, '0')}`);
    fs.mkdirSync(path);
    dirs.push({ path, depth: parent.depth + 1 });
  }
  // Files spread with lognormal weights: most directories hold a few, some thousands.
  const weights = dirs.map(() => Math.exp(1.6 * gaussian(rand)));
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  const counts = new Array<number>(dirs.length).fill(0);
  for (let f = 0; f < files; f++) {
    const x = rand() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]!++;
  }
  dirs.forEach((dir, d) => {
    let lastFile: string | null = null;
    for (let k = 0; k < (counts[d] as number); k++) {
      const word = fileWords[Math.floor(rand() * fileWords.length)] as string;
      const ext = extensions[Math.floor(rand() * extensions.length)] as string;
      const path = join(dir.path, `${word}_day${String(k).padStart(5, '0')}${ext}`);
      const kind = rand();
      if (kind < 0.01) {
        fs.symlinkSync(`../link-target-${k}`, path);
      } else if (kind < 0.015 && lastFile !== null) {
        fs.linkSync(lastFile, path);
      } else {
        makeFile(path, fileSize(rand));
        lastFile = path;
      }
    }
  });
}

function makeFlatTree(root: string, files: number, seed: number): void {
  const rand = seededRandom(seed);
  fs.mkdirSync(root, { recursive: true });
  for (let i = 0; i < files; i++) makeFile(join(root, `sample_${String(i).padStart(6, '0')}.nc`), fileSize(rand));
}

interface Tree {
  name: string;
  root: string;
  files: number;
  build(root: string): void;
  /** At most this many runs (the largest trees take long and are there for their memory figure). */
  runs?: number;
}

/** `count` empty files in one directory, by a small C program (a million a minute here, against ten in Node). */
function makeEmptyFiles(root: string, count: number): void {
  const mkfiles = join(cache, 'mkfiles');
  const source = join(repo, 'test', 'support', 'mkfiles.c');
  const built = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', mkfiles, source], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`cannot build ${source} (needs gcc): ${built.stderr}`);
  fs.mkdirSync(root, { recursive: true });
  const made = spawnSync(mkfiles, [root, String(count), 'sample-output-file-'], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error(`mkfiles ${root} failed`);
}

const trees: Tree[] = [
  {
    name: 'tree-200k',
    root: join(cache, 'trees', 'tree-200k'),
    files: 200_000,
    build: (r) => makeRealisticTree(r, 200_000, 1),
  },
  {
    name: 'flat-200k',
    root: join(cache, 'trees', 'flat-200k'),
    files: 200_000,
    build: (r) => makeFlatTree(r, 200_000, 2),
  },
  {
    name: 'tree-1m',
    root: join(cache, 'trees', 'tree-1m'),
    files: 1_000_000,
    build: (r) => makeRealisticTree(r, 1_000_000, 3),
    runs: 3,
  },
  {
    name: 'flat-2m',
    root: join(cache, 'trees', 'flat-2m'),
    files: 2_000_000,
    build: (r) => makeEmptyFiles(r, 2_000_000),
    runs: 1,
  },
];

function ensureTree(tree: Tree): void {
  const marker = `${tree.root}.complete`;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === String(TREE_VERSION)) return;
  if (fs.existsSync(tree.root)) spawnSync('rm', ['-rf', tree.root]);
  process.stderr.write(`building ${tree.name} (${tree.files.toLocaleString('en')} files) in ${tree.root} … `);
  const started = performance.now();
  tree.build(tree.root);
  fs.writeFileSync(marker, String(TREE_VERSION));
  process.stderr.write(`${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

// ---- measuring ------------------------------------------------------------------------------------------------

interface Run {
  seconds: number;
  /** User + system CPU time: less sensitive than wall time to other load on the machine. */
  cpu: number;
  rssMb: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time: wall time, CPU time and peak resident memory. */
function timed(command: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', ...command], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const lines = result.stderr.trim().split('\n');
  const [seconds = 'NaN', kb = 'NaN', user = 'NaN', system = 'NaN'] = (lines[lines.length - 1] ?? '').split(' ');
  // xfc scan exits 3 for a partial scan (a latfs tree has none, but a changed cache might).
  if (result.status !== 0 && result.status !== 3) {
    throw new Error(`${command.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return {
    seconds: Number(seconds),
    cpu: Number(user) + Number(system),
    rssMb: Number(kb) / 1024,
    stdout: result.stdout,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Tool {
  name: string;
  command: (root: string) => string[];
  env: NodeJS.ProcessEnv;
  /** The xfc row: its files count is read from its report, and its event loop is measured. */
  xfc?: boolean;
}

interface Measured {
  tool: string;
  seconds: number;
  cpu: number;
  rssMb: number;
}

interface Row {
  tree: string;
  files: number | null;
  runs: number;
  /** du first. */
  tools: Measured[];
  /** Largest event-loop delay of the thread calling walk(), ms. */
  eventLoopMs: number | null;
}

/**
 * A warm-up run of du (which fills the kernel's caches for all) and of xfc (its report gives the file count), then
 * `runs` rounds of all the tools in turn; medians (and the largest RSS).
 */
function compare(name: string, root: string, runs: number, tools: Tool[]): Row {
  const warm = tools.map((tool, k) => (k === 0 || tool.xfc ? timed(tool.command(root), tool.env) : null));
  const xfcIndex = tools.findIndex((tool) => tool.xfc);
  let files: number | null = null;
  if (xfcIndex >= 0) {
    files = (JSON.parse((warm[xfcIndex] as Run).stdout) as { totals: { files: number } }).totals.files;
  }
  const all: Run[][] = tools.map(() => []);
  for (let i = 0; i < runs; i++) {
    tools.forEach((tool, k) => all[k]!.push(timed(tool.command(root), tool.env)));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return {
    tree: name,
    files,
    runs,
    tools: all.map((list, k) => ({
      tool: (tools[k] as Tool).name,
      seconds: median(list.map((r) => r.seconds)),
      cpu: median(list.map((r) => r.cpu)),
      rssMb: Math.max(...list.map((r) => r.rssMb), warm[k]?.rssMb ?? 0),
    })),
    eventLoopMs: xfcIndex >= 0 ? eventLoopDelay(root, (tools[xfcIndex] as Tool).env) : null,
  };
}

/**
 * Walks `root` once through the walk API (compiled) in a child process and returns the largest delay of that
 * thread's event loop while it ran (what would hold back a Temporal heartbeat), in ms.
 */
function eventLoopDelay(root: string, env: NodeJS.ProcessEnv): number {
  const walker = pathToFileURL(join(cache, 'dist', 'lib', 'walker', 'index.js')).href;
  const script = `
    import { monitorEventLoopDelay } from 'node:perf_hooks';
    import { walk } from ${JSON.stringify(walker)};
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const outcome = await walk({ root: process.argv[1], now: new Date(), ageBasis: 'ctime' });
    histogram.disable();
    if (!outcome.done) throw new Error('the walk did not finish');
    console.log(JSON.stringify({ maxMs: histogram.max / 1e6 }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, root], { env, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`event-loop walk of ${root} failed: ${child.stderr}`);
  return (JSON.parse(child.stdout) as { maxMs: number }).maxMs;
}

function printRows(title: string, rows: Row[], speedUp: boolean): void {
  console.log(`\n${title}\n`);
  console.log(
    `| tree | files | tool | median (s) | ${speedUp ? 'speed-up over du' : 'ratio to du'} | CPU (s) | peak RSS (MB) |`,
  );
  console.log('|---|--:|---|--:|--:|--:|--:|');
  for (const row of rows) {
    const du = row.tools[0] as Measured;
    for (const m of row.tools) {
      const ratio = speedUp ? `${(du.seconds / m.seconds).toFixed(1)}×` : (m.seconds / du.seconds).toFixed(2);
      const files = row.files === null ? '' : row.files.toLocaleString('en');
      const name = m.tool.startsWith('xfc') ? `**${m.tool}**` : m.tool;
      console.log(
        `| ${row.tree} (${row.runs} runs) | ${files} | ${name} | ${m.seconds.toFixed(2)} | ${ratio} | ${m.cpu.toFixed(2)} | ${m.rssMb.toFixed(0)} |`,
      );
    }
  }
  const loops = rows.filter((row) => row.eventLoopMs !== null);
  if (loops.length > 0) {
    const text = loops.map((row) => `${row.tree} ${(row.eventLoopMs as number).toFixed(1)} ms`).join(', ');
    console.log(`\nLargest event-loop delay of the thread calling walk() (one walk each): ${text}.`);
  }
}

// ---- latfs ----------------------------------------------------------------------------------------------------

function withLatfs<T>(use: (mount: string) => T): T {
  // A clone beside shared/ (../shared), or a worktree one level further down (../../shared).
  const candidates = [
    process.env.LATFS_TOOLS ?? '',
    ...['..', '../..'].map((up) => resolve(repo, up, 'shared/tools/latfs')),
  ];
  const tools = candidates.find((dir) => dir !== '' && fs.existsSync(join(dir, 'mount.sh')));
  if (!tools) throw new Error(`latfs tools not found in ${candidates.filter(Boolean).join(' or ')} (set LATFS_TOOLS)`);
  if (spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0) {
    throw new Error('latfs needs FUSE 3: apt-get install -y libfuse3-dev fuse3 pkg-config gcc');
  }
  const source = join(cache, 'lat-src');
  const mount = join(cache, 'lat-mnt');
  if (!fs.existsSync(`${source}.complete`)) {
    spawnSync('rm', ['-rf', source]);
    const gen = spawnSync(join(tools, 'gen.sh'), [source], { stdio: 'inherit' });
    if (gen.status !== 0) throw new Error('latfs gen.sh failed');
    fs.writeFileSync(`${source}.complete`, '1');
  }
  fs.mkdirSync(mount, { recursive: true });
  if (spawnSync('mountpoint', ['-q', mount]).status === 0) spawnSync(join(tools, 'umount.sh'), [mount]);
  const mounted = spawnSync(join(tools, 'mount.sh'), [source, mount, '300'], { stdio: 'inherit' });
  if (mounted.status !== 0) throw new Error('latfs mount.sh failed');
  try {
    return use(mount);
  } finally {
    spawnSync(join(tools, 'umount.sh'), [mount], { stdio: 'inherit' });
  }
}

// ---- main -----------------------------------------------------------------------------------------------------

function build(): void {
  process.stderr.write('compiling xfc (tsc -p tsconfig.build.json) … ');
  const dist = join(cache, 'dist');
  const tsc = spawnSync(
    process.execPath,
    [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', dist],
    { encoding: 'utf8' },
  );
  if (!fs.existsSync(join(dist, 'cli', 'main.js'))) throw new Error(`tsc produced no CLI:\n${tsc.stdout}`);
  // The compiled code resolves its packages and its module type from here, and a native walker its addon.
  fs.writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n');
  const links: Array<[string, string]> = [
    [join(repo, 'node_modules'), join(dist, 'node_modules')],
    [join(repo, 'build'), join(dist, 'build')],
  ];
  for (const [target, link] of links) {
    fs.rmSync(link, { force: true });
    if (fs.existsSync(target)) fs.symlinkSync(target, link);
  }
  if (fs.existsSync(join(repo, 'binding.gyp')) && !fs.existsSync(join(repo, 'build', 'Release'))) {
    throw new Error('the native walker is not built (no build/Release): run `npm ci` first');
  }
  process.stderr.write(tsc.status === 0 ? 'done\n' : 'done (with type errors elsewhere in the repository)\n');
}

/** `xfc scan --json` as users run it: the compiled CLI, with libuv's default thread pool, as bin/xfc.cjs leaves it. */
function xfcScan(name: string): Tool {
  const main = join(cache, 'dist', 'cli', 'main.js');
  return {
    name,
    command: (root) => [process.execPath, main, 'scan', '--json', root],
    env: process.env,
    xfc: true,
  };
}

const du: Tool = {
  name: 'du -s --apparent-size',
  command: (root) => ['du', '-s', '--apparent-size', root],
  env: process.env,
};
const gdu: Tool = {
  name: 'gdu -n -s -p -a',
  command: (root) => ['gdu', '-n', '-s', '-p', '-a', root],
  env: process.env,
};

function requireTools(): void {
  for (const tool of ['du', 'ncdu', 'gdu', '/usr/bin/time']) {
    if (spawnSync(tool, ['--version']).error) {
      throw new Error(`${tool} is not installed (apt-get install -y ncdu gdu time): the figures are ratios to it`);
    }
  }
}

/**
 * One run at a time per cache: a second run would recompile the CLI and remount latfs under the first one's feet
 * (seen: a scan hung on a remounted latfs). A lock file holds the owner's pid; a dead owner's lock is taken over.
 */
function lockCache(): void {
  const lock = join(cache, 'lock');
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      process.on('exit', () => fs.rmSync(lock, { force: true }));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(fs.readFileSync(lock, 'utf8'));
    try {
      process.kill(owner, 0);
    } catch {
      fs.rmSync(lock, { force: true }); // its owner is gone
      continue;
    }
    throw new Error(`another bench:scan (pid ${owner}) is using ${cache}; wait for it, or set TMPDIR elsewhere`);
  }
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  requireTools();
  fs.mkdirSync(join(cache, 'trees'), { recursive: true });
  lockCache();
  build();
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const walker = fs.existsSync(join(repo, 'binding.gyp')) ? 'native walker (build/Release)' : 'worker-thread walker';
  console.log(`bench:scan ${new Date().toISOString()}, node ${process.version}, ${walker}, load average ${load}`);
  console.log(`xfc = node ${join(cache, 'dist', 'cli', 'main.js')} scan --json (compiled)`);
  if (options.local) {
    const ncdu: Tool = {
      name: 'ncdu -0 -o /dev/null',
      command: (root) => ['ncdu', '-0', '-o', '/dev/null', root],
      env: process.env,
    };
    const tools = [du, ncdu, gdu, xfcScan('xfc scan --json')];
    const rows: Row[] = [];
    for (const tree of trees) {
      if (options.only && tree.name !== options.only) continue;
      ensureTree(tree);
      const runs = Math.min(options.runs, tree.runs ?? options.runs);
      process.stderr.write(`${tree.name}: `);
      rows.push(compare(tree.name, tree.root, runs, tools));
    }
    printRows(`Local disk (${tmpdir()}), warm caches, median of N runs`, rows, false);
  }
  if (options.latfs) {
    const gdu16: Tool = { ...gdu, name: 'gdu, GOMAXPROCS=16', env: { ...process.env, GOMAXPROCS: '16' } };
    const tools = [du, gdu, gdu16, xfcScan('xfc scan --json')];
    const rows = withLatfs((mount) => {
      process.stderr.write('latfs 300 µs: ');
      return [compare('latfs 300 µs', mount, options.runs, tools)];
    });
    printRows(`latfs (FUSE, 300 µs per metadata request), median of ${options.runs} runs`, rows, true);
  }
}

main();
