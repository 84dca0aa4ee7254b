import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TiB } from '../../lib/common/units.js';
import {
  decideNotification,
  initialNotifyState,
  isPlainAddress,
  nextState,
  reaches,
  usageLevel,
  type NotifyDecision,
  type NotifyState,
  type PolicyThresholds,
  type Recipient,
  type UsageInput,
} from '../../lib/notify/policy.js';

const day = 86_400_000;
const hour = 3_600_000;
const thresholds: PolicyThresholds = {
  warnPercent: 90,
  overPercent: 100,
  reminderIntervalMs: 7 * day,
  minIntervalMs: day,
};
const alice: Recipient = { notify: true, email: 'alice@example.org' };
const start = new Date('2026-11-01T00:00:00Z');

/** Usage as a share of the default quotas: temporal 300 TiB·day, hard 40 TiB. */
function usage(
  temporalPercent: number,
  hardPercent = 10,
  status: UsageInput['status'] = 'complete',
  at = start,
): UsageInput {
  return {
    status,
    scannedAt: at,
    temporalQuota: 300n * TiB,
    temporalByteDays: (300n * TiB * BigInt(Math.round(temporalPercent * 100))) / 10_000n,
    hardQuota: 40n * TiB,
    hardBytes: (40n * TiB * BigInt(Math.round(hardPercent * 100))) / 10_000n,
  };
}

/**
 * A fake clock: one scan a day (or at the given offsets), each decided at its scan time and the state carried
 * forward as the database would. Returns the decisions.
 */
function run(
  steps: Array<{ after: number; temporal: number; hard?: number; status?: UsageInput['status'] }>,
  recipient: Recipient = alice,
  state0: NotifyState = initialNotifyState,
): NotifyDecision[] {
  let state = state0;
  let clock = start.getTime();
  return steps.map((step) => {
    clock += step.after;
    const now = new Date(clock);
    const scan = usage(step.temporal, step.hard, step.status, now);
    const decision = decideNotification({ state, usage: scan, recipient, now, thresholds });
    state = nextState(state, scan, decision, now);
    return decision;
  });
}

const emails = (decisions: NotifyDecision[]): Array<string | null> => decisions.map((d) => d.email);

describe('usage levels', () => {
  it('is warning from 90 % and over from 100 % of either quota, exactly', () => {
    assert.equal(usageLevel(usage(89.99), thresholds), 'ok');
    assert.equal(usageLevel(usage(90), thresholds), 'warning');
    assert.equal(usageLevel(usage(99.99), thresholds), 'warning');
    assert.equal(usageLevel(usage(100), thresholds), 'over');
    assert.equal(usageLevel(usage(10, 90), thresholds), 'warning', 'the hard quota alone');
    assert.equal(usageLevel(usage(95, 100), thresholds), 'over', 'the higher of the two');
    // One byte·day under the quota is not over, even at sizes where a float would round it up.
    assert.equal(reaches(300n * TiB - 1n, 300n * TiB, 100), false);
    assert.equal(reaches(300n * TiB, 300n * TiB, 100), true);
  });

  it('ignores a quota of zero (not set) rather than calling everyone over', () => {
    assert.equal(usageLevel({ ...usage(50), temporalQuota: 0n }, thresholds), 'ok');
  });
});

describe('decideNotification', () => {
  it('emails when the level rises, not again at the same level, and once when back under', () => {
    const decisions = run([
      { after: 0, temporal: 50 },
      { after: day, temporal: 91 },
      { after: day, temporal: 95 },
      { after: day, temporal: 96 },
      { after: day, temporal: 40 },
      { after: day, temporal: 30 },
    ]);
    assert.deepEqual(emails(decisions), [null, 'warning', null, null, 'all-clear', null]);
    assert.deepEqual(
      decisions.map((d) => d.reason),
      ['unchanged', 'level-rose', 'unchanged', 'unchanged', 'back-under', 'unchanged'],
    );
  });

  it('goes from warning to over, then reminds every 7 days while over and no more often', () => {
    const steps = [
      { after: 0, temporal: 92 },
      { after: day, temporal: 101 },
      ...Array.from({ length: 14 }, () => ({ after: day, temporal: 105 })),
    ];
    const decisions = run(steps);
    const kinds = emails(decisions);
    assert.equal(kinds[0], 'warning');
    assert.equal(kinds[1], 'over');
    // Day 1 was the "over" email; reminders on days 8 and 15, nothing in between.
    const reminderDays = kinds.flatMap((kind, index) => (kind === 'reminder' ? [index] : []));
    assert.deepEqual(reminderDays, [8, 15]);
    assert.ok(decisions.slice(2, 8).every((d) => d.reason === 'reminder-not-due'));
  });

  it('a reminder is due exactly at the interval, not a minute before', () => {
    const told: NotifyState = { level: 'over', notifiedLevel: 'over', lastEmailAt: start, lastScanAt: start };
    const at = (ms: number): NotifyDecision =>
      decideNotification({
        state: told,
        usage: usage(120, 10, 'complete', new Date(start.getTime() + ms)),
        recipient: alice,
        now: new Date(start.getTime() + ms),
        thresholds,
      });
    assert.equal(at(7 * day - 60_000).email, null);
    assert.equal(at(7 * day).email, 'reminder');
  });

  it('never sends more than one email per user per day, and sends the held-back one later', () => {
    // Warning in the morning, over six hours later and still that evening: the "over" email waits for the next day.
    const decisions = run([
      { after: 0, temporal: 91 },
      { after: 6 * hour, temporal: 101 },
      { after: 6 * hour, temporal: 101 },
      { after: 13 * hour, temporal: 101 },
    ]);
    assert.deepEqual(emails(decisions), ['warning', null, null, 'over']);
    assert.equal(decisions[1]?.reason, 'min-interval');
    assert.equal(decisions[1]?.level, 'over', 'the measured level is recorded even when the email waits');
    assert.equal(decisions[1]?.notifiedLevel, 'warning', 'the user still only knows of warning');
  });

  it('does not send an all-clear to someone who was never told, nor flap when a dip is brief', () => {
    // Over then down within the day: the all-clear waits; back over next day: not a new "over" email.
    const decisions = run([
      { after: 0, temporal: 101 },
      { after: 2 * hour, temporal: 50 },
      { after: day, temporal: 101 },
    ]);
    assert.deepEqual(emails(decisions), ['over', null, null]);
    assert.deepEqual(
      decisions.map((d) => d.reason),
      ['level-rose', 'min-interval', 'reminder-not-due'],
    );
    // Measured warning but never told (the email was held back): falling back needs no all-clear.
    const dip = run(
      [
        { after: 0, temporal: 50 },
        { after: day, temporal: 50 },
      ],
      alice,
      { level: 'warning', notifiedLevel: 'ok', lastEmailAt: null, lastScanAt: null },
    );
    assert.deepEqual(emails(dip), [null, null]);
  });

  it('says nothing when falling from over to warning, and clears once below warning', () => {
    const decisions = run([
      { after: 0, temporal: 101 },
      { after: day, temporal: 95 },
      { after: day, temporal: 95 },
      { after: day, temporal: 80 },
    ]);
    assert.deepEqual(emails(decisions), ['over', null, null, 'all-clear']);
    assert.equal(decisions[1]?.reason, 'still-warning');
    assert.equal(decisions[3]?.notifiedLevel, 'ok');
  });

  it('suppresses, with the reason, when notify is off or there is no usable address', () => {
    const cases: Array<[Recipient, string]> = [
      [{ notify: false, email: 'bob@example.org' }, 'notify-off'],
      [{ notify: true, email: '' }, 'no-address'],
      [{ notify: true, email: '   ' }, 'no-address'],
      [{ notify: true, email: 'a@example.org, b@example.org' }, 'invalid-address'],
      [{ notify: true, email: 'a@example.org\r\nBcc: x@evil.example' }, 'invalid-address'],
      [{ notify: true, email: 'Alice <a@example.org>' }, 'invalid-address'],
    ];
    for (const [recipient, reason] of cases) {
      const [decision] = run([{ after: 0, temporal: 101 }], recipient);
      assert.equal(decision?.email, 'over', reason);
      assert.equal(decision?.suppressed, true, reason);
      assert.equal(decision?.reason, reason);
    }
  });

  it('a suppressed decision counts: no new row every scan, weekly reminders, as for everyone', () => {
    const bob: Recipient = { notify: false, email: 'bob@example.org' };
    const decisions = run(
      [{ after: 0, temporal: 101 }, ...Array.from({ length: 7 }, () => ({ after: day, temporal: 101 }))],
      bob,
    );
    assert.deepEqual(emails(decisions), ['over', null, null, null, null, null, null, 'reminder']);
    assert.ok(decisions.every((d) => d.email === null || d.suppressed));
  });

  it('a failed scan never triggers a usage email and changes nothing', () => {
    const told: NotifyState = { level: 'over', notifiedLevel: 'over', lastEmailAt: start, lastScanAt: start };
    const now = new Date(start.getTime() + 30 * day);
    const failed = { ...usage(0, 0, 'failed', now) };
    const decision = decideNotification({ state: told, usage: failed, recipient: alice, now, thresholds });
    assert.deepEqual(decision, {
      level: 'over',
      email: null,
      suppressed: false,
      reason: 'scan-failed',
      notifiedLevel: 'over',
    });
    assert.deepEqual(nextState(told, failed, decision, now), told);
  });

  it('a partial scan may report a rise (a lower bound) but never a fall', () => {
    const rise = run([
      { after: 0, temporal: 50 },
      { after: day, temporal: 101, status: 'partial' },
    ]);
    assert.deepEqual(emails(rise), [null, 'over']);
    const fall = run([
      { after: 0, temporal: 101 },
      { after: day, temporal: 10, status: 'partial' },
      { after: day, temporal: 10, status: 'complete' },
    ]);
    assert.deepEqual(emails(fall), ['over', null, 'all-clear']);
    assert.equal(fall[1]?.reason, 'partial-scan');
    assert.equal(fall[1]?.level, 'over', 'a partial scan does not lower the recorded level');
  });

  it('a late, older scan changes nothing', () => {
    const now = new Date(start.getTime() + day);
    const state: NotifyState = { level: 'ok', notifiedLevel: 'ok', lastEmailAt: null, lastScanAt: now };
    const old = usage(101, 10, 'complete', start);
    const decision = decideNotification({ state, usage: old, recipient: alice, now, thresholds });
    assert.equal(decision.email, null);
    assert.equal(decision.reason, 'stale-scan');
    assert.deepEqual(nextState(state, old, decision, now), state);
  });

  it('uses configurable thresholds and intervals', () => {
    const strict: PolicyThresholds = { warnPercent: 75, overPercent: 80, reminderIntervalMs: day, minIntervalMs: hour };
    assert.equal(usageLevel(usage(76), strict), 'warning');
    let state = initialNotifyState;
    const kinds: Array<string | null> = [];
    for (const [offset, percent] of [
      [0, 81],
      [day, 81],
      [day + 2 * hour, 10],
    ] as const) {
      const now = new Date(start.getTime() + offset);
      const scan = usage(percent, 10, 'complete', now);
      const decision = decideNotification({ state, usage: scan, recipient: alice, now, thresholds: strict });
      state = nextState(state, scan, decision, now);
      kinds.push(decision.email);
    }
    assert.deepEqual(kinds, ['over', 'reminder', 'all-clear']);
  });
});

describe('isPlainAddress', () => {
  it('accepts one plain address and refuses lists, names and control characters', () => {
    assert.ok(isPlainAddress('first.last+xfc@stfc.ac.uk'));
    for (const bad of ['', 'alice', 'a@b@c', 'a b@example.org', 'a@example.org\n', '<a@example.org>', 'a@-x.org']) {
      assert.equal(isPlainAddress(bad), false, JSON.stringify(bad));
    }
  });
});
