import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporalRestarted } from './scenarios/03-temporal-restarted.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 3: the Temporal server restarts mid-scan', () => {
  it(
    'completes the scan once the server is back, with every process still running',
    { timeout: 240_000 },
    async (t) => {
      const outcome = await temporalRestarted.run({ quick: true });
      assertChecksHeld(t, outcome);
      const m = outcome.measured;
      assert.ok(m.filesAtOutage > 0 && m.filesAtOutage < m.totalFiles, 'the server went down mid-walk');
      assert.equal(m.totalsMatchCleanWalk, true);
      assert.equal(m.scanRows, 1);
      assert.equal(m.processesAlive, true);
    },
  );
});
