import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concurrentSweeps } from './scenarios/11-concurrent-sweeps.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 11: two sweeps at once, and sweeps while scans run', () => {
  it('never scans one user twice at the same time', { timeout: 240_000 }, async (t) => {
    const outcome = await concurrentSweeps.run({ quick: true });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.equal(m.claimedByBoth, 0);
    assert.equal(m.overlappingScans, 0);
    assert.equal(m.overlappingRuns, 0);
    assert.ok(m.scans > m.users, 'users were rescanned while sweeps went on');
  });
});
