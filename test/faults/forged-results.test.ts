import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forgedResults } from './scenarios/12-forged-results.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 12: forged results and figures beyond bigint', () => {
  it(
    'dead-letters every forgery with its reason, applies real scans, ends 2^63 bytes as one failed scan',
    { timeout: 300_000 },
    async (t) => {
      const outcome = await forgedResults.run({ quick: true });
      assertChecksHeld(t, outcome);
      const m = outcome.measured;
      assert.deepEqual(m.deadLetters, {
        'clock-ahead': 1,
        unauthenticated: 3,
        'unknown-scan': 1,
        'work-dir-mismatch': 1,
        'wrong-user': 1,
      });
      assert.equal(m.victimTouched, false);
      assert.equal(m.forgedApplications, 0);
      assert.equal(m.victimAppliedAfterwards, true);
      assert.deepEqual(m.sparseRows, ['failed/out-of-range']);
      assert.equal(m.sparseRecordRetries, 0);
      assert.equal(m.sparseUsageMoved, false);
      assert.equal(m.bystanderApplied, true);
    },
  );
});
