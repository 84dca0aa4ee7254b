import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poisonMessages } from './scenarios/08-poison-messages.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 8: poison messages', () => {
  it(
    'go to xfc.dead with their reason; an unknown user fails once; the service goes on',
    { timeout: 240_000 },
    async (t) => {
      const outcome = await poisonMessages.run({ quick: true });
      assertChecksHeld(t, outcome);
      const m = outcome.measured;
      assert.deepEqual(m.deadLettered, {
        'bad JSON': 'not-json',
        'huge body (2 MiB)': 'too-large',
        'unknown version': 'unsupported-version',
        'username ../etc': 'invalid-message',
        'scan.completed missing its totals': 'invalid-message',
      });
      assert.equal(m.unknownUser.result, 'scan.failed');
      assert.equal(m.unknownUser.reason, 'unknown-user');
      assert.equal(m.unknownUser.scanRuns, 1);
      assert.equal(m.unknownUser.activityRetries, 0);
      assert.equal(m.unknownUser.requestRecorded, true);
      assert.equal(m.bridgeRetries, 0);
      assert.equal(m.normalScanRecorded, true);
    },
  );
});
