import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { errorMessage } from '../lib/common/errors.js';
import type { XfcConfig } from '../lib/config/env.js';
import {
  claimOutbox,
  findOutboxByScan,
  findScan,
  findUserById,
  insertOutbox,
  lockNotifyState,
  markOutboxFailed,
  markOutboxSent,
  saveNotifyState,
} from '../db/notifications.js';
import type { DatabasePool } from '../db/pool.js';
import { createMailer, PermanentMailError, type MailTransport } from '../lib/notify/mailer.js';
import { planNotification, planSettings } from '../lib/notify/outbox.js';
import type { NotifyLevel } from '../lib/notify/policy.js';
import type { NotifyMetrics } from './metrics.js';
import { recentUsage } from '../db/usage-history.js';
import { historyLimit } from '../lib/notify/history-block.js';
import { sendAttemptTiming } from '../lib/temporal/activity-profiles.js';
import { failureTypes } from '../lib/temporal/failure-types.js';

/**
 * The notification activities the applyScan workflow calls (docs/design.md §7): decide, then send. Deciding writes the
 * decision and its outbox row in one transaction; sending delivers that row and marks it sent only after the SMTP
 * server accepted it (or, when PostgreSQL is down at that moment, hands the workflow what to record). All are safe
 * to retry: a decision is made once per scan id, and a sent row is never sent again.
 */

export interface NotifyActivityDeps {
  pool: DatabasePool;
  config: XfcConfig;
  /** Defaults to nodemailer over XFC_SMTP_URL; tests and `xfc dev` pass one pointing at their own server. */
  transport?: MailTransport;
  /** The clock (tests move it); defaults to the wall clock. */
  now?: () => Date;
  /** How long one send attempt may hold a row before another attempt may try (default sendAttemptTiming.rowLeaseMs, 3 minutes). */
  sendLeaseMs?: number;
  metrics?: NotifyMetrics;
}

export interface DecideNotificationResult {
  /** The outbox row (pending or suppressed), or null when this scan calls for no email. */
  outboxId: string | null;
  level: NotifyLevel;
  kind: string | null;
  /** A code from lib/notify/policy.ts `decisionReasons`, e.g. 'level-rose', 'unchanged', 'notify-off'. */
  reason: string;
}

export interface SendNotificationResult {
  /** 'rejected': the server refused the recipient for good (5xx); recorded on the row, not retried. */
  status: 'sent' | 'already-sent' | 'suppressed' | 'rejected';
  /**
   * Present when the SMTP server accepted the message but the row could not be marked sent (PostgreSQL down). The
   * activity returns instead of failing, because a retry would send the email again; the workflow then records it
   * with recordNotificationSent, which Temporal retries until PostgreSQL is back.
   */
  unrecorded?: AcceptedEmail;
}

/** What the SMTP server said when it accepted a message, and when. */
export interface AcceptedEmail {
  sentAt: string;
  smtpResponse: string;
}

export interface NotifyActivities {
  decideNotification(input: { scanId: string }): Promise<DecideNotificationResult>;
  sendNotification(input: { outboxId: string }): Promise<SendNotificationResult>;
  recordNotificationSent(input: { outboxId: string } & AcceptedEmail): Promise<void>;
}

export function createNotifyActivities(deps: NotifyActivityDeps): NotifyActivities {
  const { pool, config, metrics } = deps;
  const now = deps.now ?? ((): Date => new Date());
  const leaseMs = deps.sendLeaseMs ?? sendAttemptTiming.rowLeaseMs;
  let transport = deps.transport;
  const mailer = (): MailTransport => (transport ??= createMailer(config.mail));
  const settings = planSettings(config);

  return {
    /**
     * Decides whether this scan calls for an email, in one transaction with the user's state row locked: runs the
     * policy, renders the email, writes the outbox row (pending, or suppressed with the reason) and the new state.
     * Idempotent per scan id: a repeated call returns the same row and writes nothing.
     */
    async decideNotification(input: { scanId: string }): Promise<DecideNotificationResult> {
      return pool.transaction(async (tx) => {
        const scan = await findScan(tx, input.scanId);
        if (!scan) {
          throw ApplicationFailure.nonRetryable(
            `No scan ${input.scanId} is recorded: record it before deciding.`,
            failureTypes.unknownScan,
          );
        }
        const state = await lockNotifyState(tx, scan.userId);
        const existing = await findOutboxByScan(tx, scan.scanId);
        if (existing) {
          return {
            outboxId: existing.id.toString(),
            level: existing.level,
            kind: existing.kind,
            reason: existing.suppressedReason ?? existing.reason,
          };
        }
        if (state.scanId === scan.scanId) {
          return { outboxId: null, level: state.level, kind: null, reason: state.reason ?? 'unchanged' };
        }
        const user = await findUserById(tx, scan.userId);
        if (!user)
          throw ApplicationFailure.nonRetryable(
            `User ${scan.userId} of scan ${scan.scanId} is gone.`,
            failureTypes.unknownUser,
          );

        const at = now();
        const history = scan.scanNow ? await recentUsage(tx, scan.userId, scan.scanNow, historyLimit) : [];
        const plan = planNotification({ scan, user, state, settings, now: at, history });
        const row = plan.outbox ? await insertOutbox(tx, plan.outbox, at) : null;
        if (plan.state !== state) await saveNotifyState(tx, scan.userId, plan.state);
        if (row && plan.outbox?.status === 'suppressed') metrics?.recordEmail('suppressed');
        return {
          outboxId: row ? row.id.toString() : null,
          level: plan.decision.level,
          kind: plan.decision.email,
          reason: plan.decision.reason,
        };
      });
    },

    /**
     * Sends one outbox row. Marks it sent only after the SMTP server accepted it, and keeps the server's reply.
     * Never sends a row that is sent, suppressed or rejected. Throws on a transient SMTP failure (server down,
     * timeout, 4xx, refused credentials) so that Temporal retries with backoff; a permanent refusal (5xx to the
     * recipient or the message) is recorded as 'rejected' and returned, since retrying cannot help.
     */
    async sendNotification(input: { outboxId: string }): Promise<SendNotificationResult> {
      const id = parseOutboxId(input.outboxId);
      const claim = await pool.transaction((tx) => claimOutbox(tx, id, now(), leaseMs));
      switch (claim.outcome) {
        case 'missing':
          throw ApplicationFailure.nonRetryable(`No outbox row ${input.outboxId}.`, failureTypes.unknownOutboxRow);
        case 'done':
          return {
            status: claim.row.status === 'sent' ? 'already-sent' : (claim.row.status as 'suppressed' | 'rejected'),
          };
        case 'busy':
          // Another attempt holds the lease (e.g. one Temporal gave up on that is still running): wait for it.
          throw ApplicationFailure.retryable(
            `Outbox row ${input.outboxId} is being sent by another attempt until ${claim.row.leaseUntil?.toISOString()}.`,
            failureTypes.outboxRowBusy,
          );
        case 'claimed':
          break;
      }
      const row = claim.row;
      if (row.recipient === null)
        throw ApplicationFailure.nonRetryable(`Outbox row ${input.outboxId} has no recipient.`);
      let response: string;
      try {
        const receipt = await mailer().send(
          {
            from: row.sender,
            to: row.recipient,
            subject: row.subject,
            text: row.textBody,
            html: row.htmlBody,
            messageId: row.messageId,
          },
          { timeoutMs: sendAttemptTiming.smtpTimeoutMs },
        );
        response = receipt.response;
      } catch (err) {
        const permanent = err instanceof PermanentMailError;
        metrics?.recordEmail(permanent ? 'rejected' : 'failed');
        await pool.transaction((tx) => markOutboxFailed(tx, id, errorMessage(err), permanent));
        if (permanent) return { status: 'rejected' };
        throw err;
      }
      const sentAt = now();
      metrics?.recordEmail('sent');
      try {
        await pool.transaction((tx) => markOutboxSent(tx, id, sentAt, response));
      } catch (err) {
        warn('The email was accepted but could not be marked sent; the workflow will record it', {
          outboxId: input.outboxId,
          error: errorMessage(err),
        });
        return { status: 'sent', unrecorded: { sentAt: sentAt.toISOString(), smtpResponse: response } };
      }
      return { status: 'sent' };
    },

    /** Marks a row sent that sendNotification delivered but could not mark; a row already marked is left alone. */
    async recordNotificationSent(input: { outboxId: string } & AcceptedEmail): Promise<void> {
      const id = parseOutboxId(input.outboxId);
      const sentAt = new Date(input.sentAt);
      if (Number.isNaN(sentAt.getTime())) {
        throw ApplicationFailure.nonRetryable(`"${input.sentAt}" is not a time.`, failureTypes.badSentAt);
      }
      await pool.transaction((tx) => markOutboxSent(tx, id, sentAt, input.smtpResponse));
    },
  };
}

/** The activity's logger inside a worker; the console when called directly (the CLI, tests). */
function warn(message: string, attributes: Record<string, unknown>): void {
  try {
    log.warn(message, attributes);
  } catch {
    console.warn(message, attributes);
  }
}

function parseOutboxId(value: string): bigint {
  if (!/^[1-9][0-9]{0,18}$/.test(value)) {
    throw ApplicationFailure.nonRetryable(`"${value}" is not an outbox id.`, failureTypes.badOutboxId);
  }
  return BigInt(value);
}
