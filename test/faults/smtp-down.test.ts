import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { smtpDown } from './scenarios/06-smtp-down.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 6: the SMTP server is down when an email is due (5 s outage in CI)', () => {
  it('sends exactly one email once the server is back', { timeout: 240_000 }, async (t) => {
    const outcome = await smtpDown.run({ quick: true, smtpOutageMs: 5_000 });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.ok(m.failedAttempts >= 1);
    assert.equal(m.emails, 1);
    assert.equal(m.outboxStatus, 'sent');
    assert.equal(m.notification, 'sent');
  });
});
