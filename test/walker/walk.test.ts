import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanReport, type ScanReport } from '../../lib/messages/v1/scan-report.js';
import { walk, WalkError, type WalkOptions } from '../../lib/walker/index.js';
import { parkedWalkerThreads } from '../../lib/walker/thread-pool.js';
import { DAY_MS, makeMixedTree, makeTempDir, removeTree, type MixedTree } from './fixtures.js';
import { referenceScan, type Reference } from './reference.js';

async function report(options: WalkOptions): Promise<ScanReport> {
  const outcome = await walk(options);
  assert.equal(outcome.done, true);
  if (!outcome.done) throw new Error('unreachable');
  return scanReport.parse(outcome.report); // the shape scan.completed and `xfc scan --json` carry
}

/**
 * How the report should show a first-level name: as is when it is valid UTF-8 without control characters,
 * else byte by byte (enough for this tree's names; the walker's escaping is tested on its own).
 */
function shownName(key: string): string {
  if (key === '') return '.';
  const bytes = Buffer.from(key, 'latin1');
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
    if (!/[\x00-\x1f\x7f\\]/.test(text)) return text;
  } catch {
    // not UTF-8
  }
  return [...bytes]
    .map((b) =>
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/** The top-20 lists a reference implies, as the report shows them. */
function expectedTop(ref: Reference, metric: 'bytes' | 'byteDays'): Array<[string, number, string]> {
  return [...ref.top.entries()]
    .sort(([ka, a], [kb, b]) => (a[metric] !== b[metric] ? (a[metric] > b[metric] ? -1 : 1) : ka < kb ? -1 : 1))
    .slice(0, 20)
    .map(([key, sums]) => [shownName(key), sums.files, sums.bytes.toString()]);
}

function assertMatchesReference(actual: ScanReport, ref: Reference): void {
  assert.deepEqual(actual.totals, ref.totals);
  assert.deepEqual(
    actual.ageHistogram.map((h) => ({ files: h.files, bytes: h.bytes })),
    ref.histogram,
  );
  assert.equal(actual.errors.otherDevice, ref.otherDevice);
  const shown = (list: ScanReport['topDirectories']['byBytes']): Array<[string, number, string]> =>
    list.map((d) => [d.path, d.files, d.bytes]);
  assert.deepEqual(shown(actual.topDirectories.byBytes), expectedTop(ref, 'bytes'));
  assert.deepEqual(shown(actual.topDirectories.byTemporal), expectedTop(ref, 'byteDays'));
}

describe('walk over a mixed tree', () => {
  // Ages 45.5 days after the tree was made, so every ctime is in the ≤60 bucket and far from a day boundary.
  const now = new Date(Date.now() + 45.5 * DAY_MS);
  let tree: MixedTree;
  before(() => {
    tree = makeMixedTree(now);
  });
  after(() => tree.cleanup());

  for (const ageBasis of ['ctime', 'mtime'] as const) {
    it(`matches an independent reference (find -xdev) with age basis ${ageBasis}`, async (t) => {
      if (tree.mountSkipReason) t.diagnostic(tree.mountSkipReason);
      const actual = await report({ root: tree.root, now, ageBasis });
      const ref = referenceScan(tree.root, { now, ageBasis });
      assert.deepEqual(ref.findErrors, []);
      assertMatchesReference(actual, ref);
      // The sparse 10 GiB file counts its apparent size; its allocated blocks are tiny.
      assert.ok(BigInt(actual.totals.bytes) > 10n * 2n ** 30n);
      assert.ok(BigInt(actual.totals.allocatedBytes) < 2n ** 20n);
      assert.equal(actual.totals.others, 2, 'a FIFO and a socket');
      assert.equal(actual.totals.symlinks, 6);
      if (tree.mount) {
        assert.equal(actual.status, 'partial', 'a mount inside the tree means the totals are a lower bound');
        assert.deepEqual(actual.errors.samples, [{ kind: 'otherDevice', path: 'mnt', code: 'EXDEV' }]);
      } else {
        assert.equal(actual.status, 'complete');
      }
    });
  }

  it('counts a hard link once, at its first link in walk order, and a link to a file outside once', async () => {
    const actual = await report({ root: tree.root, now, ageBasis: 'ctime' });
    const top = new Map(actual.topDirectories.byBytes.map((d) => [d.path, d]));
    assert.equal(top.get('links-a')?.bytes, '50000', 'links-a sorts before links-b: the shared inode is counted there');
    assert.equal(top.get('links-b')?.bytes, String(5_000_000), 'only the link to the outside file is new in links-b');
  });

  it('shows a non-UTF-8 name escaped', async () => {
    const actual = await report({ root: tree.root, now, ageBasis: 'ctime' });
    const paths = actual.topDirectories.byBytes.map((d) => d.path);
    assert.ok(paths.includes('dir\\xc3('), `escaped directory name among ${paths.join(', ')}`);
  });

  it('buckets ages by the mtime basis, a future mtime counting as age 0', async () => {
    const actual = await report({ root: tree.root, now, ageBasis: 'mtime' });
    const ref = referenceScan(tree.root, { now, ageBasis: 'mtime' });
    assert.deepEqual(
      actual.ageHistogram.map((h) => h.files),
      ref.histogram.map((h) => h.files),
    );
    assert.ok(
      actual.ageHistogram.every((h) => h.files > 0),
      'the tree has files in every bucket',
    );
  });

  it('counts every ctime in the future as age 0 when now is before the tree was made', async () => {
    const past = new Date(Date.now() - 10 * DAY_MS);
    const actual = await report({ root: tree.root, now: past, ageBasis: 'ctime' });
    assert.equal(actual.totals.temporalByteDays, actual.totals.bytes, 'size × (0 + 1) for every file');
    assert.equal(actual.ageHistogram[0]?.files, actual.totals.files);
    assertMatchesReference(actual, referenceScan(tree.root, { now: past, ageBasis: 'ctime' }));
  });

  it('enters .snapshot when told to exclude nothing', async () => {
    const actual = await report({ root: tree.root, now, ageBasis: 'ctime', exclude: [] });
    const ref = referenceScan(tree.root, { now, ageBasis: 'ctime', exclude: [] });
    assertMatchesReference(actual, ref);
    const withExclusion = await report({ root: tree.root, now, ageBasis: 'ctime' });
    assert.equal(actual.totals.files, withExclusion.totals.files + 1, 'the copy inside .snapshot');
  });

  it('reuses its threads from walk to walk, each walk with its own settings', async () => {
    const snapshotIncluded = await report({ root: tree.root, now, ageBasis: 'ctime', mode: 'async', exclude: [] });
    assert.ok(parkedWalkerThreads() >= 1, 'the threads wait for the next walk');
    const parked = parkedWalkerThreads();
    const next = await report({ root: tree.root, now, ageBasis: 'mtime' });
    assert.equal(parkedWalkerThreads(), parked, 'the next walk took them and gave them back');
    assertMatchesReference(next, referenceScan(tree.root, { now, ageBasis: 'mtime' }));
    assert.equal(next.totals.files, snapshotIncluded.totals.files - 1, 'the .snapshot exclusion is back');
  });

  it('gives the same report with asynchronous calls (the slow-filesystem mode) and with one thread', async () => {
    const base = await report({ root: tree.root, now, ageBasis: 'ctime' });
    assert.deepEqual(await report({ root: tree.root, now, ageBasis: 'ctime', mode: 'async' }), base);
    assert.deepEqual(await report({ root: tree.root, now, ageBasis: 'ctime', threads: 1 }), base);
    assert.deepEqual(await report({ root: tree.root, now, ageBasis: 'ctime', threads: 3, mode: 'async' }), base);
  });

  it('reports progress while it works', async () => {
    const seen: number[] = [];
    const outcome = await walk({
      root: tree.root,
      now,
      ageBasis: 'ctime',
      onProgress: (progress) => seen.push(progress.entries),
    });
    assert.equal(outcome.done, true);
    assert.ok(outcome.progress.entries > 100);
    assert.equal(outcome.progress.files, outcome.done ? outcome.report.totals.files : -1);
    assert.ok(seen.every((n, i) => i === 0 || n >= (seen[i - 1] ?? 0)));
  });
});

describe('walk refuses what it must not scan', () => {
  let dir: string;
  before(() => {
    dir = makeTempDir('refuse');
    fs.mkdirSync(join(dir, 'real'));
    fs.symlinkSync('real', join(dir, 'link'));
    fs.writeFileSync(join(dir, 'file'), 'x');
  });
  after(() => removeTree(dir));
  const now = new Date();

  it('a root that is a symlink', async () => {
    await assert.rejects(walk({ root: join(dir, 'link'), now, ageBasis: 'ctime' }), (err: unknown) => {
      assert.ok(err instanceof WalkError);
      assert.match(err.message, /link.*symbolic link/);
      return true;
    });
  });

  it('a root that is not a directory, does not exist, or is relative', async () => {
    await assert.rejects(walk({ root: join(dir, 'file'), now, ageBasis: 'ctime' }), /is not a directory/);
    await assert.rejects(walk({ root: join(dir, 'missing'), now, ageBasis: 'ctime' }), /does not exist/);
    await assert.rejects(walk({ root: 'relative/path', now, ageBasis: 'ctime' }), /must be absolute/);
  });

  it('an empty directory is a complete scan of nothing', async () => {
    const actual = await report({ root: join(dir, 'real'), now, ageBasis: 'ctime' });
    assert.equal(actual.status, 'complete');
    assert.deepEqual(actual.totals, {
      files: 0,
      directories: 1,
      symlinks: 0,
      others: 0,
      bytes: '0',
      allocatedBytes: '0',
      temporalByteDays: '0',
    });
    assert.deepEqual(actual.topDirectories, { byBytes: [], byTemporal: [] });
  });
});

describe('sums beyond 2^53 stay exact', () => {
  let dir: string;
  let mount: string | null = null;
  before(() => {
    dir = makeTempDir('huge');
    // Sparse files of almost 16 TiB (ext4's limit) over a long time: byte·days far beyond 2^53 in one directory.
    fs.mkdirSync(join(dir, 'work', 'big'), { recursive: true });
    for (let i = 0; i < 600; i++) {
      const fd = fs.openSync(join(dir, 'work', 'big', `f${i}`), 'w');
      fs.ftruncateSync(fd, 2 ** 44 - 4096 * (i + 1));
      fs.closeSync(fd);
    }
    // On tmpfs a single file can be larger than 2^53 bytes (as root; skipped otherwise).
    const target = join(dir, 'tmpfs');
    fs.mkdirSync(target);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'xfc-huge', target]).status === 0) {
      mount = target;
      for (const [name, size] of [
        ['two-to-the-53-plus-one', 2n ** 53n + 1n],
        ['two-to-the-62-plus-three', 2n ** 62n + 3n],
      ] as const) {
        spawnSync('truncate', ['-s', size.toString(), join(target, name)]);
      }
    }
  });
  after(() => {
    if (mount) spawnSync('umount', ['-l', mount]);
    removeTree(dir);
  });

  it('on ext4: 600 sparse files of ~16 TiB, 3,000 days old', async () => {
    const now = new Date(Date.now() + 3000.5 * DAY_MS);
    const root = join(dir, 'work');
    const actual = await report({ root, now, ageBasis: 'ctime' });
    const ref = referenceScan(root, { now, ageBasis: 'ctime' });
    assert.ok(BigInt(ref.totals.temporalByteDays) > 2n ** 63n, 'far beyond 2^53 (and 2^63)');
    assert.deepEqual(actual.totals, ref.totals);
    assert.deepEqual(
      actual.ageHistogram.map((h) => ({ files: h.files, bytes: h.bytes })),
      ref.histogram,
    );
  });

  it('on tmpfs: single files larger than 2^53 bytes', async (t) => {
    if (!mount) {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    const now = new Date(Date.now() + 0.5 * DAY_MS);
    const actual = await report({ root: mount, now, ageBasis: 'mtime' });
    assert.equal(actual.totals.bytes, (2n ** 53n + 1n + 2n ** 62n + 3n).toString());
    assert.deepEqual(actual.totals, referenceScan(mount, { now, ageBasis: 'mtime' }).totals);
  });
});
