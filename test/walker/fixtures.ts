/** Real trees on disk for walker tests: every awkward thing a user's work directory can hold. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DAY_MS = 86_400_000;

/** A world-traversable temporary directory (an unprivileged walker must reach the trees inside). */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(join(tmpdir(), `xfc-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Removes a tree of any depth (Node's rmSync fails beyond PATH_MAX; rm uses openat). */
export function removeTree(dir: string): void {
  spawnSync('chmod', ['-R', 'u+rwx', dir]);
  const result = spawnSync('rm', ['-rf', '--one-file-system', dir]);
  if (result.status !== 0) throw new Error(`rm -rf ${dir}: ${result.stderr.toString()}`);
}

function run(command: string, ...args: string[]): void {
  const result = spawnSync(command, args);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr.toString()}`);
}

function file(path: string | Buffer, size: number): void {
  const fd = fs.openSync(path, 'w');
  if (size > 0) fs.writeSync(fd, Buffer.alloc(Math.min(size, 4096), 0x61));
  if (size > 4096) fs.ftruncateSync(fd, size); // sparse beyond the first page
  fs.closeSync(fd);
}

/** Sets the mtime of `path` to `daysAgo` days (plus half a day, away from day boundaries) before `now`. */
export function ageMtime(path: string | Buffer, now: Date, daysAgo: number): void {
  const seconds = (now.getTime() - daysAgo * DAY_MS - DAY_MS / 2) / 1000;
  fs.lutimesSync(path, seconds, seconds);
}

export interface MixedTree {
  root: string;
  /** Directory holding the root and things outside it (the target of a hard link from inside). */
  base: string;
  /** Mount point of a tmpfs inside the tree, if mounting worked (needs root). */
  mount: string | null;
  mountSkipReason: string | null;
  /** Directories an unprivileged user cannot read or enter: mode 000, r without x, x without r. */
  lockedDirs: string[];
  cleanup(): void;
}

/**
 * A tree with sparse files, hard links (also across first-level directories and to a file outside the tree),
 * symlink loops, links out of the tree, dangling links, names that are not UTF-8, with newlines, leading
 * spaces and backslashes, empty directories, a FIFO, a socket, a `.snapshot` directory, files with old and
 * future mtimes, 25 first-level directories of different sizes, locked directories and (as root) a tmpfs mount.
 */
export function makeMixedTree(now: Date): MixedTree {
  const base = makeTempDir('mixed');
  const root = join(base, 'work');
  fs.mkdirSync(root, { mode: 0o755 });
  const p = (...parts: string[]): string => join(root, ...parts);

  // First-level directories with different sizes and ages, more than the top-20 lists hold.
  for (let i = 0; i < 25; i++) {
    const dir = p(`proj${String(i).padStart(2, '0')}`);
    fs.mkdirSync(dir);
    for (let k = 0; k <= i % 7; k++) {
      const path = join(dir, `data-${k}.nc`);
      file(path, 1000 * (i + 1) + k * 37);
      ageMtime(path, now, (i * 13 + k * 29) % 400);
    }
    if (i % 5 === 0) {
      fs.mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
      file(join(dir, 'sub', 'deeper', 'x.bin'), 123_456 * (i + 1));
    }
  }
  // Sparse files: apparent size far beyond the allocated blocks.
  fs.mkdirSync(p('sparse'));
  file(p('sparse', 'ten-gib.img'), 10 * 2 ** 30);
  file(p('sparse', 'empty'), 0);
  // Hard links: three links to one inode across two first-level dirs, one link to a file outside the tree.
  fs.mkdirSync(p('links-b'));
  fs.mkdirSync(p('links-a'));
  file(p('links-b', 'original'), 50_000);
  fs.linkSync(p('links-b', 'original'), p('links-a', 'first-in-walk-order'));
  fs.linkSync(p('links-b', 'original'), p('links-b', 'second'));
  fs.mkdirSync(join(base, 'outside'));
  file(join(base, 'outside', 'target'), 5_000_000);
  fs.linkSync(join(base, 'outside', 'target'), p('links-b', 'to-outside'));
  // Symlinks: loops, out of the tree, dangling, to a directory.
  fs.mkdirSync(p('links'));
  fs.symlinkSync('loop-b', p('links', 'loop-a'));
  fs.symlinkSync('loop-a', p('links', 'loop-b'));
  fs.symlinkSync('..', p('links', 'parent'));
  fs.symlinkSync('/etc', p('links', 'etc'));
  fs.symlinkSync(join(base, 'outside'), p('links', 'outside'));
  fs.symlinkSync('does-not-exist', p('links', 'dangling'));
  // Awkward names.
  const raw = (...bytes: number[]): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(bytes)]);
  file(raw(0x62, 0x61, 0x64, 0xff, 0xfe), 11); // "bad\xff\xfe"
  fs.mkdirSync(raw(0x64, 0x69, 0x72, 0xc3, 0x28)); // "dir\xc3(": invalid UTF-8 directory
  file(Buffer.concat([raw(0x64, 0x69, 0x72, 0xc3, 0x28), Buffer.from('/inside.txt')]), 3_000_000);
  file(p('new\nline'), 33);
  file(p(' leading space'), 44);
  file(p('back\\slash'), 55);
  file(p('caf\u00e9-utf8'), 66);
  fs.mkdirSync(p('empty-dir'));
  fs.mkdirSync(p('empty-nested', 'a', 'b'), { recursive: true });
  // Others: a FIFO and a socket.
  run('mkfifo', p('fifo'));
  run('python3', '-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(p('socket'))})`);
  // Excluded by default: counted as a directory, never entered.
  fs.mkdirSync(p('.snapshot', 'hourly.0'), { recursive: true });
  file(p('.snapshot', 'hourly.0', 'copy-of-everything'), 999_999);
  file(p('.snapshot-not-excluded'), 12);
  // Ages: a file with an mtime in the future, files directly in the root.
  file(p('future.dat'), 4_000);
  fs.utimesSync(p('future.dat'), now.getTime() / 1000 + 3 * 86_400, now.getTime() / 1000 + 30 * 86_400);
  file(p('in-root.txt'), 1_234);
  ageMtime(p('in-root.txt'), now, 200);
  // Locked directories (only an unprivileged walker notices).
  const lockedDirs: string[] = [];
  for (const [name, mode] of [
    ['locked-000', 0o000],
    ['locked-r-no-x', 0o644],
    ['locked-x-no-r', 0o311],
  ] as const) {
    fs.mkdirSync(p(name));
    file(p(name, 'hidden'), 3_000);
    fs.mkdirSync(p(name, 'subdir'));
    fs.chmodSync(p(name), mode);
    lockedDirs.push(p(name));
  }
  // Another filesystem inside the tree: counted as otherDevice, never entered.
  let mount: string | null = p('mnt');
  let mountSkipReason: string | null = null;
  fs.mkdirSync(mount);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'xfc-test', mount]);
  if (mounted.status === 0) {
    file(join(mount, 'on-tmpfs'), 100_000);
  } else {
    mountSkipReason = `cannot mount a tmpfs (${mounted.stderr.toString().trim() || 'mount failed'}): otherDevice untested`;
    mount = null;
  }
  const mountPoint = mount;
  return {
    root,
    base,
    mount,
    mountSkipReason,
    lockedDirs,
    cleanup() {
      if (mountPoint) spawnSync('umount', ['-l', mountPoint]);
      removeTree(base);
    },
  };
}

/**
 * A chain of `depth` nested directories whose full path exceeds PATH_MAX, built with relative paths (absolute
 * ones fail beyond 4096 bytes), with a file every 100 levels and a sibling subtree at the bottom.
 */
export function makeDeepTree(depth: number): { root: string; cleanup(): void } {
  const base = makeTempDir('deep');
  const root = join(base, 'work');
  fs.mkdirSync(root, { mode: 0o755 });
  const here = process.cwd();
  try {
    process.chdir(root);
    for (let level = 1; level <= depth; level++) {
      const name = `level-${String(level).padStart(4, '0')}`;
      fs.mkdirSync(name);
      if (level % 100 === 0) file(`file-at-${level}`, level);
      process.chdir(name);
    }
    file('bottom.txt', 4242);
    fs.mkdirSync('a');
    fs.mkdirSync('b');
    file('a/in-a', 10);
    file('b/in-b', 20);
    fs.symlinkSync('../../..', 'up');
  } finally {
    process.chdir(here);
  }
  return { root, cleanup: () => removeTree(base) };
}

/** One directory of `count` files (plus a few subdirectories spread among them), split by the walker in chunks. */
export function makeFlatTree(count: number): { root: string; subdirs: number; cleanup(): void } {
  const base = makeTempDir('flat');
  const root = join(base, 'work');
  fs.mkdirSync(root, { mode: 0o755 });
  for (let i = 0; i < count; i++) {
    const fd = fs.openSync(join(root, `f${String(i).padStart(6, '0')}`), 'w');
    if (i % 3 !== 0) fs.writeSync(fd, Buffer.alloc(i % 4096, 0x62));
    fs.closeSync(fd);
  }
  const subdirs = [7, 4095, 4096, 30_000, count - 1].filter((i) => i < count);
  for (const i of subdirs) {
    const dir = join(root, `f${String(i).padStart(6, '0')}-dir`);
    fs.mkdirSync(dir);
    file(join(dir, 'inner'), i + 1);
  }
  return { root, subdirs: subdirs.length, cleanup: () => removeTree(base) };
}
