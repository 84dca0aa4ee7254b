import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanWorkerKilled } from './scenarios/01-scan-worker-killed.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 1: the scan worker is SIGKILLed mid-walk', () => {
  it(
    'resumes from the last heartbeat, redoing at most one heartbeat interval of walking',
    { timeout: 300_000 },
    async (t) => {
      const outcome = await scanWorkerKilled.run({ quick: true });
      assertChecksHeld(t, outcome);
      const m = outcome.measured;
      assert.ok(m.resumedAttempt >= 2, 'a retry resumed');
      assert.ok(m.resumedAtFiles > 0 && m.resumedAtFiles < m.totalFiles, 'from a checkpoint part-way');
      assert.ok(m.resumedAtFiles >= m.lastSeenHeartbeatFiles, 'no older than the last heartbeat seen');
      assert.ok(m.redoneFiles <= m.intervalFiles, `${m.redoneFiles} files redone > ${m.intervalFiles}`);
      assert.equal(m.totalsMatchCleanWalk, true);
      assert.equal(m.scanRows, 1);
    },
  );
});
