import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rabbitmqRestarted } from './scenarios/04-rabbitmq-restarted.js';
import { otherClients } from './harness/services.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 4: RabbitMQ restarts with requests and results in flight', () => {
  it('loses nothing and doubles nothing', { timeout: 240_000 }, async (t) => {
    // This restarts the machine's broker: never under someone else's work (CI runs test files one at a time).
    const others = await otherClients();
    if (others.broker > 0)
      return t.skip(`${others.broker} other connection(s) to RabbitMQ: not restarting it under them`);
    const outcome = await rabbitmqRestarted.run({ quick: true });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.ok(m.requestsInFlight > 0 && m.completionsInFlight > 0);
    assert.equal(m.ledger.exactlyOnce, m.ledger.users);
    assert.deepEqual([m.ledger.missing, m.ledger.doubled], [[], []]);
    assert.equal(m.ledger.applyExecutions, m.ledger.users);
    assert.equal(m.ledger.deadLetters, 0);
    assert.ok(m.ledger.emailsToOverQuota.every((n) => n === 1));
    assert.equal(m.processesAlive, true);
  });
});
