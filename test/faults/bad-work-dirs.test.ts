import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badWorkDirs } from './scenarios/10-bad-work-dirs.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 10: work directories that must not be walked', () => {
  it('end quickly as scan.failed with the reason, without retries', { timeout: 240_000 }, async (t) => {
    const outcome = await badWorkDirs.run({ quick: true });
    assertChecksHeld(t, outcome);
    assert.deepEqual(
      outcome.measured.users.map((u) => [u.username, u.reason, u.scanRuns, u.activityRetries, u.scanRows]),
      [
        ['ghost', 'work-dir-missing', 1, 0, 1],
        ['linky', 'work-dir-symlink', 1, 0, 1],
        ['outsider', 'work-dir-outside-root', 1, 0, 1],
        ['tunnel', 'work-dir-outside-root', 1, 0, 1],
        ['flat', 'work-dir-not-directory', 1, 0, 1],
      ],
    );
    for (const user of outcome.measured.users)
      assert.ok(user.failedAfterMs < 10_000, `${user.username}: ${user.failedAfterMs} ms`);
    assert.equal(outcome.measured.bridgeRetries, 0);
  });
});
