import type { XfcConfig } from '../config/env.js';
import type { AgeBasis, AgeBucket, ScanErrors, TopDirectories } from '../messages/v1/index.js';
import type { DbId } from '../../db/ids.js';
import type { HistoryPoint } from './history-block.js';
import { messageIdFor } from './message.js';
import {
  decideNotification,
  nextState,
  type DecisionReason,
  type EmailKind,
  type NotifyDecision,
  type NotifyLevel,
  type NotifyState,
  type PolicyThresholds,
} from './policy.js';
import { renderEmail, type EmailContent } from './render.js';

/**
 * From a recorded scan to an outbox entry, without I/O: runs the policy, renders the email it calls for, and works
 * out the user's next notification state. The activity runs this inside one transaction and stores the result;
 * `xfc notify preview` runs it read-only.
 */

/** A recorded scan, as the notifier needs it (from xfc_scan). */
export interface ScanFacts {
  scanId: string;
  userId: DbId;
  username: string;
  status: 'complete' | 'partial' | 'failed';
  workDir: string | null;
  ageBasis: AgeBasis;
  /** The scan's "now"; null for a failed scan. */
  scanNow: Date | null;
  bytes: bigint;
  temporalByteDays: bigint;
  files: number;
  errors: ScanErrors | null;
  topDirectories: TopDirectories | null;
  ageHistogram: AgeBucket[] | null;
}

/** The Django user row's part the notifier reads. */
export interface UserFacts {
  userId: DbId;
  username: string;
  email: string;
  notify: boolean;
  temporalQuota: bigint;
  hardQuota: bigint;
}

/** Everything xfc_user_state holds about notifications. */
export interface StoredNotifyState extends NotifyState {
  levelSince: Date | null;
  /** The last email the SMTP server accepted (set when a row is marked sent). */
  lastNotifiedAt: Date | null;
  lastNotifiedKind: string | null;
  /** Why the last email that was due did not go (suppressed or held back); cleared when one is queued. */
  lastNotifySkippedReason: string | null;
  /** The latest scan decided and the reason of that decision, so a repeated decision returns the same answer. */
  scanId: string | null;
  reason: string | null;
}

export const initialStoredState: StoredNotifyState = {
  level: 'ok',
  notifiedLevel: 'ok',
  lastEmailAt: null,
  lastScanAt: null,
  levelSince: null,
  lastNotifiedAt: null,
  lastNotifiedKind: null,
  lastNotifySkippedReason: null,
  scanId: null,
  reason: null,
};

/** A row to insert into xfc_notification. */
export interface NewOutboxEntry {
  userId: DbId;
  scanId: string;
  username: string;
  kind: EmailKind;
  level: NotifyLevel;
  reason: DecisionReason;
  status: 'pending' | 'suppressed';
  suppressedReason: DecisionReason | null;
  recipient: string | null;
  sender: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  messageId: string;
}

export interface PlannedNotification {
  decision: NotifyDecision;
  /** The state to store (equal to the input for a failed or stale scan). */
  state: StoredNotifyState;
  outbox: NewOutboxEntry | null;
}

export interface PlanSettings {
  thresholds: PolicyThresholds;
  from: string;
  contact: string;
  helpUrl?: string;
  policy?: string;
}

/** The settings of every decision and email, from the configuration. */
export function planSettings(config: Pick<XfcConfig, 'notify' | 'mail'>): PlanSettings {
  return {
    thresholds: config.notify,
    from: config.mail.from,
    contact: config.mail.contact,
    policy: config.mail.policy,
    ...(config.mail.helpUrl ? { helpUrl: config.mail.helpUrl } : {}),
  };
}

/** Runs the policy for one scan and prepares what to store. */
export function planNotification(input: {
  scan: ScanFacts;
  user: UserFacts;
  state: StoredNotifyState;
  settings: PlanSettings;
  now: Date;
  /** The user's recent scans for the email's history table (optional). */
  history?: HistoryPoint[];
}): PlannedNotification {
  const { scan, user, state, settings, now } = input;
  const usage = {
    status: scan.status,
    scannedAt: scan.scanNow ?? now,
    hardBytes: scan.bytes,
    hardQuota: user.hardQuota,
    temporalByteDays: scan.temporalByteDays,
    temporalQuota: user.temporalQuota,
  };
  const decision = decideNotification({
    state,
    usage,
    recipient: { notify: user.notify, email: user.email },
    now,
    thresholds: settings.thresholds,
  });
  if (decision.reason === 'scan-failed' || decision.reason === 'stale-scan') {
    return { decision, state, outbox: null };
  }

  const queued = decision.email !== null && !decision.suppressed;
  const heldBack = decision.suppressed || decision.reason === 'min-interval';
  const next: StoredNotifyState = {
    ...state,
    ...nextState(state, usage, decision, now),
    levelSince: decision.level !== state.level || state.levelSince === null ? usage.scannedAt : state.levelSince,
    lastNotifySkippedReason: queued ? null : heldBack ? decision.reason : state.lastNotifySkippedReason,
    scanId: scan.scanId,
    reason: decision.reason,
  };
  if (decision.email === null) return { decision, state: next, outbox: null };

  const rendered = renderEmail({
    ...emailContent(decision.email, scan, user, settings),
    ...(input.history ? { history: input.history } : {}),
  });
  const email = user.email.trim();
  return {
    decision,
    state: next,
    outbox: {
      userId: user.userId,
      scanId: scan.scanId,
      username: user.username,
      kind: decision.email,
      level: decision.level,
      reason: decision.suppressed ? reasonFor(decision.email) : decision.reason,
      status: decision.suppressed ? 'suppressed' : 'pending',
      suppressedReason: decision.suppressed ? decision.reason : null,
      recipient: email === '' ? null : email,
      sender: settings.from,
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html,
      messageId: messageIdFor(scan.scanId, settings.from),
    },
  };
}

/** Why an email of this kind is sent at all (for a suppressed row, whose decision reason is the suppression). */
function reasonFor(kind: EmailKind): DecisionReason {
  switch (kind) {
    case 'warning':
    case 'over':
      return 'level-rose';
    case 'reminder':
      return 'reminder-due';
    case 'all-clear':
      return 'back-under';
  }
}

/** The email a user at `level` would get, for previews when no email is due now. */
export function kindForLevel(level: NotifyLevel, notifiedLevel: NotifyLevel): EmailKind {
  if (level === 'over') return notifiedLevel === 'over' ? 'reminder' : 'over';
  return level === 'warning' ? 'warning' : 'all-clear';
}

/** The renderer's input for this scan and user. */
export function emailContent(kind: EmailKind, scan: ScanFacts, user: UserFacts, settings: PlanSettings): EmailContent {
  if (scan.status === 'failed' || scan.scanNow === null) {
    throw new Error(`scan ${scan.scanId} measured nothing (status ${scan.status}): there is no usage to write about`);
  }
  const errors = scan.errors;
  return {
    kind,
    username: user.username,
    workDir: scan.workDir ?? '(unknown)',
    scan: {
      status: scan.status,
      scannedAt: scan.scanNow,
      ageBasis: scan.ageBasis,
      bytes: scan.bytes,
      temporalByteDays: scan.temporalByteDays,
      files: scan.files,
      uncounted: errors ? errors.unreadable + errors.vanished + errors.otherErrors : 0,
      topDirectories: scan.topDirectories ?? { byBytes: [], byTemporal: [] },
      ageHistogram: scan.ageHistogram ?? [],
    },
    quotas: { hardBytes: user.hardQuota, temporalByteDays: user.temporalQuota },
    thresholds: settings.thresholds,
    contact: settings.contact,
    ...(settings.helpUrl ? { helpUrl: settings.helpUrl } : {}),
    ...(settings.policy ? { policy: settings.policy } : {}),
  };
}
