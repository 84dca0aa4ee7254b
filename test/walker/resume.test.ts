import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ScanReport } from '../../lib/messages/v1/scan-report.js';
import { CheckpointError, parseCheckpoint, walk, type WalkCheckpoint } from '../../lib/walker/index.js';
import { DAY_MS, makeMixedTree, type MixedTree } from './fixtures.js';
import { roundTrip, walkInPieces } from './pieces.js';

describe('a walk stopped anywhere resumes to exactly the totals of an uninterrupted walk', () => {
  const now = new Date(Date.now() + 45.5 * DAY_MS);
  let tree: MixedTree;
  let clean: ScanReport;
  before(async () => {
    tree = makeMixedTree(now);
    const outcome = await walk({ root: tree.root, now, ageBasis: 'ctime' });
    assert.ok(outcome.done);
    clean = outcome.report;
  });
  after(() => tree.cleanup());

  it('stopping after every single record (a zero budget makes each piece account one record)', async () => {
    const result = await walkInPieces({ root: tree.root, now, ageBasis: 'ctime' }, () => ({ budgetMs: 0 }));
    assert.deepEqual(result.report, clean);
    assert.ok(result.pieces > 50, `${result.pieces} pieces`);
    assert.ok(Math.max(...result.checkpointBytes) < 16_384, 'checkpoints stay small');
  });

  it('an already aborted signal returns at once with the checkpoint it was given', async () => {
    const first = await walk({ root: tree.root, now, ageBasis: 'ctime', budgetMs: 0 });
    assert.equal(first.done, false);
    if (first.done) return;
    const again = await walk({
      root: tree.root,
      now,
      ageBasis: 'ctime',
      checkpoint: first.checkpoint,
      signal: AbortSignal.abort(),
    });
    assert.equal(again.done, false);
    if (again.done) return;
    assert.deepEqual({ ...again.checkpoint, elapsedMs: 0 }, { ...first.checkpoint, elapsedMs: 0 });
  });

  it('emits checkpoints while it walks, each of which resumes exactly', async () => {
    // This tree takes a warm thread ~25 ms and checkpoints come every 10 ms at most: walk it until five came.
    const checkpoints: WalkCheckpoint[] = [];
    for (let walks = 0; walks < 100 && checkpoints.length < 5; walks++) {
      const outcome = await walk({
        root: tree.root,
        now,
        ageBasis: 'ctime',
        mode: 'async',
        threads: 1,
        checkpointIntervalMs: 1,
        onCheckpoint: (checkpoint) => checkpoints.push(roundTrip(checkpoint, tree.root)),
      });
      assert.ok(outcome.done);
    }
    assert.ok(checkpoints.length >= 5, `${checkpoints.length} checkpoints`);
    for (const checkpoint of checkpoints) {
      const resumed = await walk({ root: tree.root, now, ageBasis: 'ctime', checkpoint });
      assert.ok(resumed.done);
      assert.deepEqual(resumed.report, clean);
    }
  });

  it('says honestly when a checkpoint had to leave hard links out', async () => {
    const first = await walk({ root: tree.root, now, ageBasis: 'ctime', budgetMs: 0 });
    assert.ok(!first.done);
    const checkpoint = { ...first.checkpoint, hardLinks: { ...first.checkpoint.hardLinks, dropped: 3 } };
    const resumed = await walk({ root: tree.root, now, ageBasis: 'ctime', checkpoint });
    assert.ok(resumed.done);
    assert.equal(resumed.report.status, 'partial');
    assert.equal(resumed.report.errors.otherErrors, clean.errors.otherErrors + 1);
    assert.ok(resumed.report.errors.samples.some((s) => s.code === 'EHARDLINKSFORGOTTEN'));
  });
});

describe('a tree that changed between a checkpoint and its resumption', () => {
  const now = new Date(Date.now() + 2.5 * DAY_MS);
  let tree: MixedTree;
  before(() => {
    tree = makeMixedTree(now);
  });
  after(() => tree.cleanup());

  it('resumes without crashing: the vanished cursor is counted, the rest is walked', async () => {
    // Walk one record at a time until the cursor is inside proj05, then remove proj05 and resume.
    let checkpoint: WalkCheckpoint | undefined;
    for (;;) {
      const outcome = await walk({ root: tree.root, now, ageBasis: 'ctime', budgetMs: 0, checkpoint });
      assert.ok(!outcome.done, 'the cursor never reached proj05/sub');
      checkpoint = outcome.checkpoint;
      const cursor = Buffer.from(checkpoint.cursor?.path ?? '', 'base64').toString();
      if (cursor === 'proj05/sub') break;
    }
    fs.rmSync(`${tree.root}/proj05`, { recursive: true });
    fs.symlinkSync('/etc', `${tree.root}/proj05`); // and something else in its place
    const resumed = await walk({ root: tree.root, now, ageBasis: 'ctime', checkpoint });
    assert.ok(resumed.done);
    assert.equal(resumed.report.status, 'partial');
    assert.ok(resumed.report.errors.vanished >= 1);
    assert.ok(resumed.report.errors.samples.some((s) => s.kind === 'vanished' && s.path.startsWith('proj05')));
    // Everything after proj05 was still walked: the same files as a fresh walk of the changed tree, plus what
    // had been counted in proj05 before it went.
    const fresh = await walk({ root: tree.root, now, ageBasis: 'ctime' });
    assert.ok(fresh.done);
    assert.ok(resumed.report.totals.files >= fresh.report.totals.files);
    assert.ok(
      resumed.report.topDirectories.byBytes.some((d) => d.path === 'proj24'),
      'later directories walked',
    );
  });
});

describe('checkpoints that do not fit are refused with a clear message', () => {
  const now = new Date('2026-01-15T12:00:00.000Z');
  let tree: MixedTree;
  let checkpoint: WalkCheckpoint;
  before(async () => {
    tree = makeMixedTree(now);
    const outcome = await walk({ root: tree.root, now, ageBasis: 'ctime', budgetMs: 0 });
    assert.ok(!outcome.done);
    checkpoint = JSON.parse(JSON.stringify(outcome.checkpoint)) as WalkCheckpoint;
  });
  after(() => tree.cleanup());

  it('from another path', () => {
    assert.throws(
      () => parseCheckpoint(checkpoint, { root: '/work/xfc/vol1/user_cache/someone-else' }),
      (err: unknown) =>
        err instanceof CheckpointError && /belongs to a scan of .*work, not \/work\/xfc/.test(err.message),
    );
  });

  it('from another version', () => {
    assert.throws(
      () => parseCheckpoint({ ...checkpoint, version: 2 }, { root: tree.root }),
      /version 2.*reads version 1/,
    );
    assert.throws(
      () => parseCheckpoint({ ...checkpoint, version: undefined }, { root: tree.root }),
      /version undefined/,
    );
  });

  it('corrupt', async () => {
    assert.throws(() => parseCheckpoint({ ...checkpoint, bytes: '-5' }, { root: tree.root }), /corrupt \(bytes:/);
    assert.throws(() => parseCheckpoint('{}', { root: tree.root }), /not a JSON object/);
    const badLinks = { ...checkpoint, hardLinks: { data: 'gA==', count: 1, dropped: 0 } };
    assert.throws(() => parseCheckpoint(badLinks, { root: tree.root }), /corrupt \(hard links/);
    await assert.rejects(walk({ root: tree.root, now, ageBasis: 'ctime', checkpoint: badLinks }), CheckpointError);
  });

  it('made with other settings', async () => {
    assert.throws(
      () => parseCheckpoint(checkpoint, { root: tree.root, ageBasis: 'mtime' }),
      /age basis ctime, not mtime/,
    );
    assert.throws(
      () => parseCheckpoint(checkpoint, { root: tree.root, now: new Date('2026-02-01T00:00:00Z') }),
      /resume with --now 2026-01-15T12:00:00.000Z/,
    );
    await assert.rejects(walk({ root: tree.root, now, ageBasis: 'ctime', exclude: [], checkpoint }), CheckpointError);
  });
});
