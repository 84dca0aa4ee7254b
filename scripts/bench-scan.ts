/**
 * `npm run bench:scan [-- --runs N] [--only NAME] [--latfs] [--latfs-only]`: how fast `xfc scan` is against
 * `du -s --apparent-size` on the same trees, in the same run.
 *
 * Builds (once, cached under $TMPDIR/xfc-bench) a realistic 200k-file tree, a flat directory of 200k files and a
 * 1M-file tree; compiles xfc (tsc -p tsconfig.build.json into the cache, so a concurrent `npm run build` is not
 * disturbed) and runs the compiled CLI, `node <cache>/dist/cli/main.js scan --json TREE`, alternating with du:
 * one warm-up run each, then the median of N runs (default 5), their ratio, files/s and the peak RSS
 * (/usr/bin/time -f %M). With --latfs it also mounts ../shared/tools/latfs's 30,000-file tree at 300 µs per
 * operation (needs root, /dev/fuse and: apt-get install -y libfuse3-dev fuse3 pkg-config gcc) and reports the
 * speed-up over du.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../common/random.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(tmpdir(), 'xfc-bench');
/** Bump when the generator changes, so cached trees are rebuilt. */
const TREE_VERSION = 1;

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
    } else throw new Error(`unknown option ${arg}; see the comment at the top of scripts/bench-scan.ts`);
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
  const directoryCount = Math.round(files / 25);
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

/** Runs a command under /usr/bin/time: wall time and peak resident memory. */
function timed(command: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', ...command], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const lines = result.stderr.trim().split('\n');
  const [seconds = 'NaN', kb = 'NaN', user = 'NaN', system = 'NaN'] = (lines[lines.length - 1] ?? '').split(' ');
  if (result.status !== 0 && result.status !== 3) {
    throw new Error(`${command.join(' ')} failed (${result.status}): ${result.stderr}`);
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

interface Variant {
  name: string;
  command: (root: string) => string[];
  env: NodeJS.ProcessEnv;
}

interface Row {
  tree: string;
  files: number;
  du: number;
  duCpu: number;
  /** Per variant: median seconds, median CPU seconds and peak RSS (MB). */
  xfc: Array<{ seconds: number; cpu: number; rssMb: number }>;
}

/** One warm-up run of each, then `runs` rounds of du and every variant in turn; medians. */
function compare(name: string, root: string, runs: number, variants: Variant[]): Row {
  const duCommand = ['du', '-s', '--apparent-size', root];
  timed(duCommand);
  const warm = variants.map((v) => timed(v.command(root), v.env));
  const files = (JSON.parse((warm[0] as Run).stdout) as { totals: { files: number } }).totals.files;
  const du: Run[] = [];
  const xfc: Run[][] = variants.map(() => []);
  for (let i = 0; i < runs; i++) {
    du.push(timed(duCommand));
    variants.forEach((v, k) => xfc[k]!.push(timed(v.command(root), v.env)));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return {
    tree: name,
    files,
    du: median(du.map((r) => r.seconds)),
    duCpu: median(du.map((r) => r.cpu)),
    xfc: xfc.map((list, k) => ({
      seconds: median(list.map((r) => r.seconds)),
      cpu: median(list.map((r) => r.cpu)),
      rssMb: Math.max(...list.map((r) => r.rssMb), (warm[k] as Run).rssMb),
    })),
  };
}

function printRows(title: string, rows: Row[], variants: Variant[], speedUp: boolean): void {
  console.log(`\n${title}`);
  const heads = variants.flatMap((v) => [
    `${v.name} (s)`,
    speedUp ? 'speed-up over du' : 'ratio to du',
    'files/s',
    'CPU (s)',
    'peak RSS (MB)',
  ]);
  console.log(`| tree | files | du -s --apparent-size (s) | du CPU (s) | ${heads.join(' | ')} |`);
  console.log(`|---|--:|--:|--:|${heads.map(() => '--:').join('|')}|`);
  for (const row of rows) {
    const cells = row.xfc.flatMap((x) => [
      x.seconds.toFixed(2),
      speedUp ? `${(row.du / x.seconds).toFixed(1)}×` : (x.seconds / row.du).toFixed(2),
      Math.round(row.files / x.seconds).toLocaleString('en'),
      x.cpu.toFixed(2),
      x.rssMb.toFixed(0),
    ]);
    console.log(
      `| ${row.tree} | ${row.files.toLocaleString('en')} | ${row.du.toFixed(2)} | ${row.duCpu.toFixed(2)} | ${cells.join(' | ')} |`,
    );
  }
}

// ---- latfs ----------------------------------------------------------------------------------------------------

function withLatfs<T>(use: (mount: string) => T): T {
  const tools = process.env.LATFS_TOOLS ?? resolve(repo, '..', 'shared', 'tools', 'latfs');
  if (!fs.existsSync(join(tools, 'mount.sh'))) throw new Error(`latfs tools not found in ${tools} (set LATFS_TOOLS)`);
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
  // The compiled code resolves its packages and its module type from here.
  fs.writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n');
  if (!fs.existsSync(join(dist, 'node_modules')))
    fs.symlinkSync(join(repo, 'node_modules'), join(dist, 'node_modules'));
  process.stderr.write(tsc.status === 0 ? 'done\n' : 'done (with type errors elsewhere in the repository)\n');
}

/** `xfc scan --json` as users run it: the compiled CLI. */
function xfcScan(env: NodeJS.ProcessEnv, name: string): Variant {
  const main = join(cache, 'dist', 'cli', 'main.js');
  return { name, command: (root) => [process.execPath, main, 'scan', '--json', root], env };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  fs.mkdirSync(join(cache, 'trees'), { recursive: true });
  build();
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`xfc scan vs du, ${new Date().toISOString()}, node ${process.version}, load average ${load}`);
  console.log(`xfc = node ${join(cache, 'dist', 'cli', 'main.js')} scan --json (compiled), UV_THREADPOOL_SIZE=64`);
  const env = { ...process.env, UV_THREADPOOL_SIZE: '64' };
  const local = [xfcScan(env, 'xfc scan --json')];
  if (options.local) {
    const rows: Row[] = [];
    for (const tree of trees) {
      if (options.only && tree.name !== options.only) continue;
      ensureTree(tree);
      process.stderr.write(`${tree.name}: `);
      rows.push(compare(tree.name, tree.root, options.runs, local));
    }
    printRows(`Local disk (${tmpdir()}), median of ${options.runs} warm runs`, rows, local, false);
  }
  if (options.latfs) {
    // The pool size only matters here; libuv reads it at start-up, so it must come from the environment.
    const { UV_THREADPOOL_SIZE: _ignored, ...defaultPool } = process.env;
    const lat = [
      xfcScan(env, 'xfc scan --json, UV_THREADPOOL_SIZE=64'),
      xfcScan(defaultPool, 'xfc scan --json, default pool (4)'),
    ];
    const rows = withLatfs((mount) => {
      process.stderr.write('latfs 300 µs: ');
      return [compare('latfs 300 µs', mount, options.runs, lat)];
    });
    printRows(`latfs (FUSE, 300 µs per metadata request), median of ${options.runs} warm runs`, rows, lat, true);
  }
}

main();
