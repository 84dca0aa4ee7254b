/**
 * When to write to a user about their XFC usage (docs/design.md §7). Pure: state + new usage + now in, a decision out, so
 * every rule is unit-tested with a fake clock and the database only stores what comes out.
 *
 * The policy compares the level a scan measures with the level the user was last *told* of (`notifiedLevel`), not
 * with the previous scan. So an email held back by the one-per-day rule is not lost: the next scan still sees the
 * difference and sends it. A user is told when their level rises above what they know, reminded every 7 days while
 * over, and told once when they are back below warning.
 */

export const notifyLevels = ['ok', 'warning', 'over'] as const;
export type NotifyLevel = (typeof notifyLevels)[number];

export const emailKinds = ['warning', 'over', 'reminder', 'all-clear'] as const;
export type EmailKind = (typeof emailKinds)[number];

/** Why an email goes out, or why none does: stored in the outbox and on the user's state, shown by the CLI. */
export const decisionReasons = {
  'level-rose': 'usage rose above the level the user was last told of',
  'reminder-due': 'still over quota, and the last email was at least the reminder interval ago',
  'back-under': 'usage fell back below the warning level after the user had been told of warning or over',
  unchanged: 'no change the user has not already been told of',
  'reminder-not-due': 'still over quota, but the last email was less than the reminder interval ago',
  'still-warning': 'fell from over to warning: no email until over again or back under',
  'min-interval': 'an email is due but the user had one less than the minimum interval ago; the next scan retries',
  'partial-scan': 'the scan was partial, so its totals are a lower bound: they may show a rise, never a fall',
  'scan-failed': 'the scan failed and measured nothing: no usage email',
  'stale-scan': 'an older scan than one already decided: it changes nothing',
  'notify-off': 'an email is due but notifications are switched off for this user (notify = false)',
  'no-address': 'an email is due but the user has no email address',
  'invalid-address': 'an email is due but the address is not a single plain email address',
} as const;
export type DecisionReason = keyof typeof decisionReasons;
export type SuppressedReason = Extract<DecisionReason, 'notify-off' | 'no-address' | 'invalid-address'>;

export interface PolicyThresholds {
  /** Warning from this percentage of either quota (default 90). */
  warnPercent: number;
  /** Over from this percentage of either quota (default 100). */
  overPercent: number;
  /** At most one reminder per this many ms while over (default 7 days). */
  reminderIntervalMs: number;
  /** At most one email per user per this many ms (default 1 day). */
  minIntervalMs: number;
}

/** What the database remembers about a user between decisions. */
export interface NotifyState {
  /** The level the latest decided scan measured ('ok' for a user never scanned). */
  level: NotifyLevel;
  /**
   * The level the user was last told of, or would have been told of had their email not been suppressed; 'ok'
   * after an all-clear or when never told.
   */
  notifiedLevel: NotifyLevel;
  /** When the last email was decided (queued or suppressed): the clock of the one-per-day and reminder rules. */
  lastEmailAt: Date | null;
  /** The "now" of the latest scan decided, so a late, older scan changes nothing. */
  lastScanAt: Date | null;
}

export const initialNotifyState: NotifyState = {
  level: 'ok',
  notifiedLevel: 'ok',
  lastEmailAt: null,
  lastScanAt: null,
};

/** Usage against quota, as one scan measured it. A quota of 0 or less means "no quota set" and never counts. */
export interface UsageInput {
  status: 'complete' | 'partial' | 'failed';
  /** The scan's reference time ("now" of the walk). */
  scannedAt: Date;
  hardBytes: bigint;
  hardQuota: bigint;
  temporalByteDays: bigint;
  temporalQuota: bigint;
}

export interface Recipient {
  notify: boolean;
  email: string;
}

export interface NotifyDecision {
  /** The level to record as measured (for a partial scan, never lower than before). */
  level: NotifyLevel;
  /** The email this scan calls for, or null for none. */
  email: EmailKind | null;
  /** True when `email` is set but must not be sent (notify off, no usable address): recorded, not lost. */
  suppressed: boolean;
  reason: DecisionReason;
  /** The level the user is told of after this decision (unchanged when no email is decided). */
  notifiedLevel: NotifyLevel;
}

const rank: Record<NotifyLevel, number> = { ok: 0, warning: 1, over: 2 };

/** True when `used` is at least `percent` % of `quota`, exactly (BigInt; percent to 1/100 of a point). */
export function reaches(used: bigint, quota: bigint, percent: number): boolean {
  if (quota <= 0n) return false;
  return used * 10_000n >= quota * BigInt(Math.round(percent * 100));
}

/** The level of one quota. */
export function quotaLevel(used: bigint, quota: bigint, thresholds: PolicyThresholds): NotifyLevel {
  if (reaches(used, quota, thresholds.overPercent)) return 'over';
  if (reaches(used, quota, thresholds.warnPercent)) return 'warning';
  return 'ok';
}

/** The user's level: the higher of the two quotas' levels (warning at 90 % of EITHER, over at 100 % of either). */
export function usageLevel(
  usage: Pick<UsageInput, 'hardBytes' | 'hardQuota' | 'temporalByteDays' | 'temporalQuota'>,
  thresholds: PolicyThresholds,
): NotifyLevel {
  return maxLevel(
    quotaLevel(usage.hardBytes, usage.hardQuota, thresholds),
    quotaLevel(usage.temporalByteDays, usage.temporalQuota, thresholds),
  );
}

export function maxLevel(a: NotifyLevel, b: NotifyLevel): NotifyLevel {
  return rank[a] >= rank[b] ? a : b;
}

/**
 * A single, plain address: no display name, no list, no spaces or control characters. Anything else is refused
 * rather than handed to SMTP, where a comma would add recipients and a CRLF could add headers.
 */
export function isPlainAddress(email: string): boolean {
  return (
    email.length <= 254 && /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(email)
  );
}

/** Why an email cannot go to this recipient, or null when it can. */
export function suppressionReason(recipient: Recipient): SuppressedReason | null {
  if (!recipient.notify) return 'notify-off';
  const email = recipient.email.trim();
  if (email === '') return 'no-address';
  if (!isPlainAddress(email)) return 'invalid-address';
  return null;
}

/** Decides what this scan means for the user's email. */
export function decideNotification(input: {
  state: NotifyState;
  usage: UsageInput;
  recipient: Recipient;
  now: Date;
  thresholds: PolicyThresholds;
}): NotifyDecision {
  const { state, usage, recipient, now, thresholds } = input;
  const none = (reason: DecisionReason, level: NotifyLevel = state.level): NotifyDecision => ({
    level,
    email: null,
    suppressed: false,
    reason,
    notifiedLevel: state.notifiedLevel,
  });

  // A failed scan measured nothing; it must never start or stop a conversation about usage.
  if (usage.status === 'failed') return none('scan-failed');
  if (state.lastScanAt !== null && usage.scannedAt.getTime() < state.lastScanAt.getTime()) return none('stale-scan');

  const measured = usageLevel(usage, thresholds);
  const partial = usage.status === 'partial';
  // A partial scan's totals are a lower bound: the true level is at least `measured`, perhaps the one before.
  const level = partial ? maxLevel(measured, state.level) : measured;
  const known = state.notifiedLevel;

  let email: EmailKind | null = null;
  let reason: DecisionReason;
  if (rank[measured] > rank[known]) {
    email = measured === 'over' ? 'over' : 'warning';
    reason = 'level-rose';
  } else if (partial && rank[measured] < rank[known]) {
    return none('partial-scan', level);
  } else if (measured === 'over') {
    const since = state.lastEmailAt === null ? Infinity : now.getTime() - state.lastEmailAt.getTime();
    if (since < thresholds.reminderIntervalMs) return none('reminder-not-due', level);
    email = 'reminder';
    reason = 'reminder-due';
  } else if (measured === 'ok' && known !== 'ok') {
    email = 'all-clear';
    reason = 'back-under';
  } else if (measured === 'warning' && known === 'over') {
    return none('still-warning', level);
  } else {
    return none('unchanged', level);
  }

  if (state.lastEmailAt !== null && now.getTime() - state.lastEmailAt.getTime() < thresholds.minIntervalMs) {
    return none('min-interval', level);
  }
  const notifiedLevel: NotifyLevel = email === 'all-clear' ? 'ok' : measured;
  const suppressed = suppressionReason(recipient);
  if (suppressed !== null) return { level, email, suppressed: true, reason: suppressed, notifiedLevel };
  return { level, email, suppressed: false, reason, notifiedLevel };
}

/** The state to store after a decision (the database layer writes exactly this). */
export function nextState(state: NotifyState, usage: UsageInput, decision: NotifyDecision, now: Date): NotifyState {
  if (decision.reason === 'scan-failed' || decision.reason === 'stale-scan') return state;
  return {
    level: decision.level,
    notifiedLevel: decision.notifiedLevel,
    lastEmailAt: decision.email === null ? state.lastEmailAt : now,
    lastScanAt: usage.scannedAt,
  };
}
