import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { ScanReport } from '../../lib/messages/v1/scan-report.js';
import { walk, type WalkOptions } from '../../lib/walker/index.js';
import { DAY_MS, makeDeepTree, makeFlatTree } from './fixtures.js';
import { referenceScan } from './reference.js';
import { randomSequence, walkInPieces } from './pieces.js';

/** Walks while measuring how long the event loop was ever blocked (what would delay a Temporal heartbeat). */
async function walkMeasuringLag(options: WalkOptions): Promise<{ report: ScanReport; maxLagMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const outcome = await walk(options);
  histogram.disable();
  assert.ok(outcome.done);
  return { report: outcome.report, maxLagMs: histogram.max / 1e6 };
}

const now = new Date(Date.now() + 0.5 * DAY_MS);

/**
 * Options that abort a piece through its signal once it has accounted `entries` more entries than the
 * checkpoint it started from: random points that do not depend on the machine's speed, always after progress.
 */
function abortAfterProgress(entries: number): Partial<WalkOptions> {
  const controller = new AbortController();
  let start: number | null = null;
  return {
    signal: controller.signal,
    checkpointIntervalMs: 1,
    onCheckpoint: (checkpoint) => {
      start ??= checkpoint.entries;
      if (checkpoint.entries >= start + entries) controller.abort();
    },
  };
}

describe('a chain of 1,100 nested directories, deeper than PATH_MAX', () => {
  let tree: ReturnType<typeof makeDeepTree>;
  let clean: ScanReport;
  before(() => {
    tree = makeDeepTree(1100);
  });
  after(() => tree.cleanup());

  it('is walked to the bottom and matches the reference', async (t) => {
    const { report, maxLagMs } = await walkMeasuringLag({ root: tree.root, now, ageBasis: 'ctime' });
    t.diagnostic(`event loop blocked at most ${maxLagMs.toFixed(1)} ms`);
    const ref = referenceScan(tree.root, { now, ageBasis: 'ctime' });
    assert.deepEqual(ref.findErrors, []);
    assert.deepEqual(report.totals, ref.totals);
    assert.equal(report.totals.directories, 1 + 1100 + 2);
    assert.equal(
      report.totals.files,
      11 + 1 + 2,
      'a file every 100 levels, one at the bottom, one in each of a/ and b/',
    );
    assert.equal(report.status, 'complete');
    clean = report;
  });

  it('resumes exactly from random points, with checkpoints well under 256 KB', async (t) => {
    // Three pieces of one record each, then pieces aborted after random amounts of progress (each resume
    // first re-lists the cursor's ancestors, up to 1,100 of them).
    const random = randomSequence(7);
    const result = await walkInPieces({ root: tree.root, now, ageBasis: 'ctime' }, (piece) =>
      piece <= 3 ? { budgetMs: 0 } : abortAfterProgress(Math.ceil(random() * 250)),
    );
    t.diagnostic(`${result.pieces} pieces`);
    assert.deepEqual(result.report, clean);
    assert.ok(result.pieces >= 4, `${result.pieces} pieces`);
    const largest = Math.max(...result.checkpointBytes);
    assert.ok(largest < 64_000, `largest checkpoint ${largest} bytes (its cursor is a 12 KB path)`);
  });
});

describe('a flat directory of 100,000 files', () => {
  let tree: ReturnType<typeof makeFlatTree>;
  let clean: ScanReport;
  before(() => {
    tree = makeFlatTree(100_000);
  });
  after(() => tree.cleanup());

  it('is split in chunks across threads and matches the reference, without blocking the event loop', async (t) => {
    const { report, maxLagMs } = await walkMeasuringLag({ root: tree.root, now, ageBasis: 'mtime' });
    t.diagnostic(`event loop blocked at most ${maxLagMs.toFixed(1)} ms`);
    assert.ok(maxLagMs < 150, `event loop blocked ${maxLagMs.toFixed(1)} ms`);
    const ref = referenceScan(tree.root, { now, ageBasis: 'mtime' });
    assert.deepEqual(report.totals, ref.totals);
    assert.equal(report.totals.files, 100_000 + tree.subdirs);
    assert.equal(report.totals.directories, 1 + tree.subdirs);
    clean = report;
  });

  it('resumes exactly after aborts at random moments', async (t) => {
    // Each piece is aborted (by its signal) once it has gone a random number of entries further.
    const random = randomSequence(99);
    const result = await walkInPieces(
      { root: tree.root, now, ageBasis: 'mtime' },
      () => abortAfterProgress(Math.ceil(random() * 30_000)),
      200,
    );
    t.diagnostic(`${result.pieces} pieces`);
    assert.deepEqual(result.report, clean);
    assert.ok(result.pieces >= 2, `${result.pieces} pieces`);
  });

  it('resumes exactly from a cursor inside the directory (one chunk per piece)', async () => {
    const result = await walkInPieces({ root: tree.root, now, ageBasis: 'mtime' }, () => ({ budgetMs: 0 }), 200);
    assert.deepEqual(result.report, clean);
    assert.ok(result.pieces > 20, `${result.pieces} pieces`);
  });
});
