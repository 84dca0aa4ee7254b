import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCheckpoint, type WalkCheckpoint } from '../../lib/walker/index.js';
import type { DirRecord, LinkedFile } from '../../lib/walker/protocol.js';
import { Tally } from '../../lib/walker/tally.js';

function record(rel: string, fields: Partial<DirRecord> = {}): DirRecord {
  return {
    rel,
    after: null,
    entries: 0,
    files: 0,
    directories: 0,
    symlinks: 0,
    others: 0,
    bytes: 0,
    allocated: 0,
    byteDays: 0,
    histFiles: [0, 0, 0, 0, 0],
    histBytes: [0, 0, 0, 0, 0],
    unreadable: 0,
    vanished: 0,
    otherDevice: 0,
    otherErrors: 0,
    samples: [],
    links: [],
    ...fields,
  };
}

function asCheckpoint(tally: Tally): WalkCheckpoint {
  const checkpoint: WalkCheckpoint = {
    version: 1,
    root: '/work/xfc/vol1/user_cache/alice',
    now: '2026-01-15T12:00:00.000Z',
    ageBasis: 'ctime',
    exclude: ['.snapshot'],
    ...tally.toCheckpoint(),
    elapsedMs: 1,
  };
  return parseCheckpoint(JSON.parse(JSON.stringify(checkpoint)), { root: checkpoint.root });
}

describe('Tally', () => {
  it('keeps a checkpoint well under 256 KB however many hard-linked inodes it remembers, and says so', () => {
    const tally = new Tally();
    // 300,000 files each linked from outside the tree: remembered for ever, far more than a checkpoint holds.
    for (let d = 0; d < 300; d++) {
      const links: LinkedFile[] = [];
      for (let i = 0; i < 1000; i++) {
        links.push({
          dev: 2049,
          inoHi: 0,
          inoLo: 1_000_000 + d * 7919 + i * 104_729,
          nlink: 2,
          size: 10,
          allocated: 4096,
          days: 3,
        });
      }
      tally.add(record(`d${d}`, { links }));
    }
    assert.equal(tally.files, 300_000);
    assert.equal(tally.links.size, 300_000);
    const started = performance.now();
    const checkpoint = asCheckpoint(tally);
    const ms = performance.now() - started;
    const size = Buffer.byteLength(JSON.stringify(checkpoint));
    assert.ok(size < 128 * 1024, `${size} bytes`);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms to make it`);
    assert.ok(checkpoint.hardLinks.dropped > 0 && checkpoint.hardLinks.count > 10_000);
    const resumed = Tally.fromCheckpoint(checkpoint);
    const report = resumed.report();
    assert.equal(report.status, 'partial');
    assert.deepEqual(report.errors.samples, [{ kind: 'otherErrors', path: '.', code: 'EHARDLINKSFORGOTTEN' }]);
  });

  it('ranks first-level directories by size and by byte·days, ties by name, "." for the root’s own files', () => {
    const tally = new Tally();
    tally.add(record('', { files: 1, bytes: 500, byteDays: 500 }));
    tally.add(record('b', { files: 2, bytes: 100, byteDays: 9000 }));
    tally.add(record('b/deeper', { files: 1, bytes: 100, byteDays: 100 }));
    tally.add(record('a', { files: 1, bytes: 200, byteDays: 200 }));
    tally.add(record('c', { files: 1, bytes: 200, byteDays: 200 }));
    tally.add(record('empty', {}));
    const top = tally.report().topDirectories;
    assert.deepEqual(
      top.byBytes.map((d) => [d.path, d.files, d.bytes]),
      [
        ['.', 1, '500'],
        ['a', 1, '200'],
        ['b', 3, '200'],
        ['c', 1, '200'],
      ],
    );
    assert.deepEqual(
      top.byTemporal.map((d) => d.path),
      ['b', '.', 'a', 'c'],
    );
  });

  it('keeps only the 20 largest, and the same after a round trip through a checkpoint', () => {
    const tally = new Tally();
    for (let i = 0; i < 30; i++)
      tally.add(record(`p${String(i).padStart(2, '0')}`, { files: 1, bytes: (i * 37) % 30, byteDays: i }));
    const copy = Tally.fromCheckpoint(asCheckpoint(tally));
    tally.add(record('q', { files: 1, bytes: 15, byteDays: 15 }));
    copy.add(record('q', { files: 1, bytes: 15, byteDays: 15 }));
    const report = tally.report();
    assert.equal(report.topDirectories.byBytes.length, 20);
    assert.deepEqual(copy.report(), report);
  });
});
