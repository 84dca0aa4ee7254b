import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  sendAttemptTiming,
  sendNotificationOptions,
  walkChunkOptions,
  walkChunkMarginMs,
} from '../../lib/temporal/activity-profiles.js';
import { failureTypes } from '../../lib/temporal/failure-types.js';

describe('activity profiles', () => {
  it('nest a send attempt: SMTP gives up before Temporal times the attempt out, and that before the row lease ends', () => {
    assert.ok(sendAttemptTiming.smtpTimeoutMs < sendAttemptTiming.attemptTimeoutMs);
    assert.ok(sendAttemptTiming.attemptTimeoutMs < sendAttemptTiming.rowLeaseMs);
    assert.equal(sendNotificationOptions.startToCloseTimeout, sendAttemptTiming.attemptTimeoutMs);
  });

  it('give a walk chunk its budget plus the margin, its heartbeat timeout, and stop on the final failures', () => {
    const options = walkChunkOptions({ taskQueue: 'q', chunkMs: 60_000, heartbeatTimeoutMs: 30_000 });
    assert.equal(options.startToCloseTimeout, 60_000 + walkChunkMarginMs);
    assert.equal(options.heartbeatTimeout, 30_000);
    assert.deepEqual(options.retry?.nonRetryableErrorTypes, [
      failureTypes.workDirRefused,
      failureTypes.checkpointRefused,
    ]);
  });
});
