import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { treeChanges } from './scenarios/09-tree-changes.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 9: the tree changes while it is walked', () => {
  it('counts vanished and unreadable entries, follows no link, and ends partial', { timeout: 240_000 }, async (t) => {
    const outcome = await treeChanges.run({ quick: true });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.equal(m.status, 'partial');
    assert.ok(m.errors.vanished >= 2);
    if (m.scanWorkerUser !== 'root') assert.equal(m.errors.unreadable, 1);
    assert.equal(m.files, m.expectedFiles);
    assert.equal(m.bytes, m.expectedBytes);
  });
});
