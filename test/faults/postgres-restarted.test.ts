import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresRestarted } from './scenarios/05-postgres-restarted.js';
import { otherClients } from './harness/services.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 5: PostgreSQL restarts during applies', () => {
  it('retries, applies every scan once, and no process crashes', { timeout: 240_000 }, async (t) => {
    // This restarts the machine's PostgreSQL: never under someone else's work (CI runs test files one at a time).
    const others = await otherClients();
    if (others.postgres > 0) {
      return t.skip(`${others.postgres} other session(s) on PostgreSQL: not restarting it under them`);
    }
    const outcome = await postgresRestarted.run({ quick: true });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.ok(m.applyRetries + m.scanRetries > 0, 'the outage hit work in progress');
    assert.equal(m.ledger.exactlyOnce, m.ledger.users);
    assert.equal(m.ledger.applyExecutions, m.ledger.users);
    assert.equal(m.ledger.outstanding, 0);
    assert.ok(m.ledger.emailsToOverQuota.every((n) => n === 1));
    assert.equal(m.processesAlive, true);
  });
});
