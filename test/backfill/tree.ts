import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * A small /work/xfc look-alike in a temporary directory:
 *
 *   vol1/user_cache/  alice bob (directories), frank (a file), linked (symlink to vol2's carol), lost+found,
 *                     "Bad Name", -dash, UPPER, a 33-character name, a\x01b, f\xff (not UTF-8)
 *   vol2/user_cache/  carol dup
 *   vol3/user_cache/  dup erin
 *   vol4/user_cache/  gina            (excluded by the tests)
 *   vol5/             (no user_cache)
 *   other/            (not a volume)
 */
export function makeTree(): { root: string; remove(): void } {
  const root = mkdtempSync(`${tmpdir()}/xfc-backfill-`);
  const dir = (path: string): void => {
    mkdirSync(`${root}/${path}`, { recursive: true });
  };
  for (const name of ['alice', 'bob', 'lost+found', 'Bad Name', '-dash', 'UPPER', 'a'.repeat(33), 'a\u0001b']) {
    dir(`vol1/user_cache/${name}`);
  }
  mkdirSync(Buffer.concat([Buffer.from(`${root}/vol1/user_cache/`), Buffer.from([0x66, 0xff])]));
  writeFileSync(`${root}/vol1/user_cache/frank`, 'not a directory\n');
  writeFileSync(`${root}/vol1/user_cache/alice/results.nc`, 'x'.repeat(1000));
  dir('vol2/user_cache/carol');
  dir('vol2/user_cache/dup');
  symlinkSync(`${root}/vol2/user_cache/carol`, `${root}/vol1/user_cache/linked`);
  dir('vol3/user_cache/dup');
  dir('vol3/user_cache/erin');
  dir('vol4/user_cache/gina');
  dir('vol5');
  dir('other/user_cache/ivan');
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Every entry under `root` with its type, size, mode and times: equal snapshots mean nothing was modified. */
export function snapshotTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (path: Buffer): void => {
    const stats = lstatSync(path, { bigint: true });
    lines.push(
      [path.toString('hex'), stats.mode, stats.size, stats.mtimeNs, stats.ctimeNs, stats.nlink].map(String).join(' '),
    );
    if (stats.isDirectory()) {
      for (const name of readdirSync(path, { encoding: 'buffer' }).sort((a, b) => Buffer.compare(a, b))) {
        walk(Buffer.concat([path, Buffer.from('/'), name]));
      }
    }
  };
  walk(Buffer.from(root));
  return lines;
}
