import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controlWorkerKilled } from './scenarios/02-control-worker-killed.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 2: the control worker is killed mid-apply', () => {
  it('applies the scan once and sends the email that was due once', { timeout: 240_000 }, async (t) => {
    const outcome = await controlWorkerKilled.run({ quick: true });
    assertChecksHeld(t, outcome);
    const [point] = outcome.measured.points;
    assert.ok(point, 'one kill point ran');
    assert.equal(point.insideActivity, true, 'the kill came between the commit and the completion report');
    assert.equal(point.scanRows, 1);
    assert.equal(point.usageMatches, true);
    assert.equal(point.emails, 1);
    assert.equal(point.notification, 'sent');
  });
});
