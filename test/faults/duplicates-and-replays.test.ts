import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duplicatesAndReplays } from './scenarios/07-duplicates-and-replays.js';
import { assertChecksHeld } from './assert-outcome.js';

describe('fault 7: duplicated and replayed messages', () => {
  it('give one scan, one record, one application and one email', { timeout: 240_000 }, async (t) => {
    const outcome = await duplicatesAndReplays.run({ quick: true });
    assertChecksHeld(t, outcome);
    const m = outcome.measured;
    assert.equal(m.replayed, 2, 'both messages went through xfc.dead and back');
    assert.equal(m.scansThatWalked, 1);
    assert.equal(m.scanRows, 1);
    assert.equal(m.applyExecutions, 1);
    assert.equal(m.emails, 1);
    assert.equal(m.deadLettersLeft, 0);
  });
});
