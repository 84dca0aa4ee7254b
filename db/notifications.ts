import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from './ids.js';
import { ageHistogram, scanErrors, topDirectories } from '../lib/messages/v1/index.js';
import type { NewOutboxEntry, ScanFacts, StoredNotifyState, UserFacts } from '../lib/notify/outbox.js';
import { emailKinds, notifyLevels } from '../lib/notify/policy.js';
import { timestamptz } from './values.js';

/**
 * The notification outbox (xfc_notification, migration 0003) and the notification columns of xfc_user_state.
 * Functions take a connection or a transaction: the activity calls several of them in one transaction, with the
 * user's state row locked, so a decision and its outbox row are written together or not at all.
 */

const level = z.enum(notifyLevels);
const optionalDate = z.date().nullable();

// ---- scans and users

const scanFactsRow = z.object({
  scanId: z.string(),
  userId: dbId,
  username: z.string(),
  status: z.enum(['complete', 'partial', 'failed']),
  workDir: z.string().nullable(),
  ageBasis: z.enum(['ctime', 'mtime']),
  scanNow: optionalDate,
  bytes: z.bigint(),
  temporalByteDays: z.bigint(),
  files: z.bigint(),
  errors: scanErrors.nullable(),
  topDirectories: topDirectories.nullable(),
  ageHistogram: ageHistogram.nullable(),
});

const scanFactsSelect = sql.fragment`
  SELECT scan_id AS "scanId", user_id AS "userId", username, status, work_dir AS "workDir",
         COALESCE(age_basis, 'ctime') AS "ageBasis", scan_now AS "scanNow", COALESCE(bytes, 0) AS bytes,
         COALESCE(temporal_byte_days, 0) AS "temporalByteDays", COALESCE(files, 0) AS files, errors,
         top_directories AS "topDirectories", age_histogram AS "ageHistogram"
  FROM xfc_scan
`;

function toScanFacts(row: z.infer<typeof scanFactsRow>): ScanFacts {
  return { ...row, files: Number(row.files) };
}

export async function findScan(db: CommonQueryMethods, scanId: string): Promise<ScanFacts | null> {
  const row = await db.maybeOne(sql.type(scanFactsRow)`${scanFactsSelect} WHERE scan_id = ${scanId}`);
  return row ? toScanFacts(row) : null;
}

/** The user's newest scan that measured something and moved their usage (for previews). */
export async function latestMeasuredScan(db: CommonQueryMethods, userId: DbId): Promise<ScanFacts | null> {
  const row = await db.maybeOne(sql.type(scanFactsRow)`
    ${scanFactsSelect}
    WHERE user_id = ${userId} AND status <> 'failed' AND usage_applied
    ORDER BY scan_now DESC NULLS LAST, applied_at DESC
    LIMIT 1
  `);
  return row ? toScanFacts(row) : null;
}

const userFactsRow = z.object({
  userId: dbId,
  username: z.string(),
  email: z.string(),
  notify: z.boolean(),
  temporalQuota: z.bigint(),
  hardQuota: z.bigint(),
});

const userFactsSelect = sql.fragment`
  SELECT id AS "userId", name AS username, email, notify, quota_size AS "temporalQuota",
         hard_limit_size AS "hardQuota"
  FROM xfc_control_user
`;

export async function findUserById(db: CommonQueryMethods, userId: DbId): Promise<UserFacts | null> {
  return db.maybeOne(sql.type(userFactsRow)`${userFactsSelect} WHERE id = ${userId}`);
}

/** By account name; Django does not make names unique, so the oldest row wins, as everywhere in xfc. */
export async function findUserByName(db: CommonQueryMethods, username: string): Promise<UserFacts | null> {
  return db.maybeOne(sql.type(userFactsRow)`${userFactsSelect} WHERE name = ${username} ORDER BY id LIMIT 1`);
}

// ---- notification state

const stateRow = z.object({
  level,
  notifiedLevel: level,
  lastEmailAt: optionalDate,
  lastScanAt: optionalDate,
  levelSince: optionalDate,
  lastNotifiedAt: optionalDate,
  lastNotifiedKind: z.string().nullable(),
  lastNotifySkippedReason: z.string().nullable(),
  scanId: z.string().nullable(),
  reason: z.string().nullable(),
});

const stateSelect = sql.fragment`
  SELECT notify_level AS level, notified_level AS "notifiedLevel", last_email_decided_at AS "lastEmailAt",
         notify_scan_at AS "lastScanAt", level_since AS "levelSince", last_notified_at AS "lastNotifiedAt",
         last_notified_kind AS "lastNotifiedKind", last_notify_skipped_reason AS "lastNotifySkippedReason",
         notify_scan_id AS "scanId", notify_reason AS reason
  FROM xfc_user_state
`;

/**
 * The user's notification state, its row locked until the transaction ends (created first if missing): decisions
 * for one user happen one at a time, and a repeated decision sees what the first one wrote.
 */
export async function lockNotifyState(tx: DatabaseTransactionConnection, userId: DbId): Promise<StoredNotifyState> {
  await tx.query(sql.unsafe`INSERT INTO xfc_user_state (user_id) VALUES (${userId}) ON CONFLICT (user_id) DO NOTHING`);
  return tx.one(sql.type(stateRow)`${stateSelect} WHERE user_id = ${userId} FOR UPDATE`);
}

/** The state without locking (or null for a user never claimed or scanned). */
export async function readNotifyState(db: CommonQueryMethods, userId: DbId): Promise<StoredNotifyState | null> {
  return db.maybeOne(sql.type(stateRow)`${stateSelect} WHERE user_id = ${userId}`);
}

const time = (value: Date | null) => (value === null ? null : timestamptz(value));

export async function saveNotifyState(
  tx: DatabaseTransactionConnection,
  userId: DbId,
  state: StoredNotifyState,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE xfc_user_state
    SET notify_level = ${state.level}, notified_level = ${state.notifiedLevel},
        last_email_decided_at = ${time(state.lastEmailAt)}, notify_scan_at = ${time(state.lastScanAt)},
        level_since = ${time(state.levelSince)}, last_notify_skipped_reason = ${state.lastNotifySkippedReason},
        notify_scan_id = ${state.scanId}, notify_reason = ${state.reason}
    WHERE user_id = ${userId}
  `);
}

// ---- the outbox

export const outboxStatuses = ['pending', 'sent', 'suppressed', 'rejected'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

const outboxRow = z.object({
  id: z.bigint(),
  userId: dbId,
  scanId: z.string(),
  username: z.string(),
  kind: z.enum(emailKinds),
  level,
  reason: z.string(),
  status: z.enum(outboxStatuses),
  suppressedReason: z.string().nullable(),
  recipient: z.string().nullable(),
  sender: z.string(),
  subject: z.string(),
  textBody: z.string(),
  htmlBody: z.string(),
  messageId: z.string(),
  createdAt: z.date(),
  attempts: z.number().int(),
  lastAttemptAt: optionalDate,
  leaseUntil: optionalDate,
  lastError: z.string().nullable(),
  sentAt: optionalDate,
  smtpResponse: z.string().nullable(),
});
export type OutboxRow = z.infer<typeof outboxRow>;

const outboxSelect = sql.fragment`
  SELECT id, user_id AS "userId", scan_id AS "scanId", username, kind, level, reason, status,
         suppressed_reason AS "suppressedReason", recipient, sender, subject, text_body AS "textBody",
         html_body AS "htmlBody", message_id AS "messageId", created_at AS "createdAt", attempts,
         last_attempt_at AS "lastAttemptAt", lease_until AS "leaseUntil", last_error AS "lastError",
         sent_at AS "sentAt", smtp_response AS "smtpResponse"
  FROM xfc_notification
`;

export async function findOutboxByScan(db: CommonQueryMethods, scanId: string): Promise<OutboxRow | null> {
  return db.maybeOne(sql.type(outboxRow)`${outboxSelect} WHERE scan_id = ${scanId}`);
}

export async function findOutbox(db: CommonQueryMethods, id: bigint): Promise<OutboxRow | null> {
  return db.maybeOne(sql.type(outboxRow)`${outboxSelect} WHERE id = ${id}`);
}

export async function insertOutbox(
  tx: DatabaseTransactionConnection,
  entry: NewOutboxEntry,
  createdAt: Date,
): Promise<OutboxRow> {
  const inserted = await tx.one(sql.type(z.object({ id: z.bigint() }))`
    INSERT INTO xfc_notification (user_id, scan_id, username, kind, level, reason, status, suppressed_reason,
                                  recipient, sender, subject, text_body, html_body, message_id, created_at)
    VALUES (${entry.userId}, ${entry.scanId}, ${entry.username}, ${entry.kind}, ${entry.level}, ${entry.reason},
            ${entry.status}, ${entry.suppressedReason}, ${entry.recipient}, ${entry.sender}, ${entry.subject},
            ${entry.textBody}, ${entry.htmlBody}, ${entry.messageId}, ${timestamptz(createdAt)})
    RETURNING id
  `);
  const row = await findOutbox(tx, inserted.id);
  if (!row) throw new Error(`outbox row ${inserted.id} vanished inside its own transaction`);
  return row;
}

export type ClaimResult =
  | { outcome: 'claimed'; row: OutboxRow }
  | { outcome: 'done'; row: OutboxRow }
  | { outcome: 'busy'; row: OutboxRow }
  | { outcome: 'missing' };

/**
 * Takes the right to send one pending row for `leaseMs`, counting the attempt. A row already sent, suppressed or
 * rejected is 'done'; a row another attempt is sending right now (its lease still running) is 'busy'. The lease,
 * not a lock held across SMTP, keeps two attempts from sending the same row at once.
 */
export async function claimOutbox(
  tx: DatabaseTransactionConnection,
  id: bigint,
  now: Date,
  leaseMs: number,
): Promise<ClaimResult> {
  const row = await tx.maybeOne(sql.type(outboxRow)`${outboxSelect} WHERE id = ${id} FOR UPDATE`);
  if (!row) return { outcome: 'missing' };
  if (row.status !== 'pending') return { outcome: 'done', row };
  if (row.leaseUntil !== null && row.leaseUntil.getTime() > now.getTime()) return { outcome: 'busy', row };
  await tx.query(sql.unsafe`
    UPDATE xfc_notification
    SET attempts = attempts + 1, last_attempt_at = ${timestamptz(now)},
        lease_until = ${timestamptz(new Date(now.getTime() + leaseMs))}
    WHERE id = ${id}
  `);
  return { outcome: 'claimed', row: { ...row, attempts: row.attempts + 1, lastAttemptAt: now } };
}

/** The server accepted the message: the row is sent, for good, and the user's state says when. */
export async function markOutboxSent(
  tx: DatabaseTransactionConnection,
  id: bigint,
  sentAt: Date,
  smtpResponse: string,
): Promise<void> {
  const row = await tx.maybeOne(sql.type(z.object({ userId: dbId, kind: z.string() }))`
    UPDATE xfc_notification
    SET status = 'sent', sent_at = ${timestamptz(sentAt)}, smtp_response = ${smtpResponse}, lease_until = NULL,
        last_error = NULL
    WHERE id = ${id} AND status = 'pending'
    RETURNING user_id AS "userId", kind
  `);
  if (!row) return;
  await tx.query(sql.unsafe`
    UPDATE xfc_user_state
    SET last_notified_at = ${timestamptz(sentAt)}, last_notified_kind = ${row.kind}
    WHERE user_id = ${row.userId} AND (last_notified_at IS NULL OR last_notified_at <= ${timestamptz(sentAt)})
  `);
}

/** An attempt failed: keep the error, release the lease; a permanent refusal ends the row as 'rejected'. */
export async function markOutboxFailed(
  tx: DatabaseTransactionConnection,
  id: bigint,
  error: string,
  permanent: boolean,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE xfc_notification
    SET last_error = ${error.slice(0, 2000)}, lease_until = NULL,
        status = CASE WHEN ${permanent} THEN 'rejected' ELSE status END
    WHERE id = ${id} AND status = 'pending'
  `);
}

/** A user's outbox rows, newest first. */
export async function notificationHistory(db: CommonQueryMethods, userId: DbId, limit = 50): Promise<OutboxRow[]> {
  const rows = await db.any(sql.type(outboxRow)`
    ${outboxSelect} WHERE user_id = ${userId} ORDER BY created_at DESC, id DESC LIMIT ${limit}
  `);
  return [...rows];
}
