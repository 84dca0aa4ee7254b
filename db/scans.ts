import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from './ids.js';
import {
  ageHistogram,
  scanErrors,
  topDirectories,
  type ScanCompleted,
  type ScanFailed,
  type ScanErrors,
  type TopDirectories,
  type AgeBucket,
} from '../lib/messages/v1/index.js';
import { verifyScanResult, type ResultRefusal } from './scan-authority.js';
import { recordDirectoryScans } from './directory-scans.js';
import { moveUsageForward } from './usage.js';
import { timestamptz } from './values.js';

/**
 * Applying scan results. Each apply is one transaction that first inserts the scan's history row keyed by scan id
 * (ON CONFLICT DO NOTHING): a second apply of the same scan finds the row and changes nothing, however many run at
 * once. Usage (`quota_used`, `total_used`, `last_scanned`) only moves forward: a scan whose `now` is not newer than
 * the user's `last_scanned` (xfc's copy, db/usage.ts) is kept as history and touches nothing else. The volume's `used_bytes` is recomputed as
 * the sum of its users' `total_used` under a lock on the volume row, so concurrent applies on one volume cannot lose
 * an update.
 */

export interface ApplyOutcome {
  /** True when this call recorded the scan; false when it had been recorded before or the user is unknown. */
  applied: boolean;
  /**
   * True when the scan moved the user's usage (it was newer than what was recorded), by this call or, for a scan
   * already applied, by the call that applied it: a retried apply whose first attempt committed must still make
   * the decisions that follow (the notification), so it needs the same answer. Always false for failures.
   */
  usageUpdated: boolean;
  userId: DbId | null;
  /** Why nothing was applied. */
  skipped?: 'already-applied' | 'unknown-user' | 'refused';
  /** Set when the result was refused (not xfc's own scan: nothing recorded) or recorded as a failed scan instead. */
  refusal?: { reason: ResultRefusal | PermanentFailureReason; detail: string };
}

/** Reasons a result xfc did issue is recorded as a failed scan rather than applied: no retry could change them. */
export const permanentFailureReasons = ['out-of-range', 'clock-ahead', 'unwritable'] as const;
export type PermanentFailureReason = (typeof permanentFailureReasons)[number];

export interface RecordOptions {
  /**
   * Check the result against the scans xfc issued (scan id, user, work directory) and the database's clock, in
   * the applying transaction (default true). Only a fixture that records history directly turns it off.
   */
  verify?: boolean;
}

/** PostgreSQL's bigint, which every figure column is. */
export const maxBigint = 2n ** 63n - 1n;

const userIdRow = z.object({ userId: dbId });
const scanIdRow = z.object({ scanId: z.string() });
const usageAppliedRow = z.object({ usageApplied: z.boolean() });

async function lookUpUser(tx: DatabaseTransactionConnection, username: string): Promise<DbId | null> {
  const row = await tx.maybeOne(
    sql.type(userIdRow)`SELECT id AS "userId" FROM xfc_control_user WHERE name = ${username} ORDER BY id LIMIT 1`,
  );
  return row?.userId ?? null;
}

/**
 * Records a completed (or partial) scan and moves the user's usage forward if it is the newest. A result xfc did
 * not issue changes nothing (`skipped: 'refused'`); one whose times are ahead of the database's clock, or whose
 * figures do not fit the columns, is recorded as a failed scan with that reason, once, and never retried.
 */
export async function recordScanCompleted(
  pool: DatabasePool,
  message: ScanCompleted,
  options: RecordOptions = {},
): Promise<ApplyOutcome> {
  const bytes = BigInt(message.totals.bytes);
  const temporal = BigInt(message.totals.temporalByteDays);
  return pool.transaction(async (tx) => {
    const userId = await lookUpUser(tx, message.username);
    if (userId === null) return { applied: false, usageUpdated: false, userId, skipped: 'unknown-user' };
    if (options.verify ?? true) {
      const verdict = await verifyScanResult(tx, message);
      if (!verdict.ok && verdict.reason !== 'clock-ahead') {
        return { applied: false, usageUpdated: false, userId, skipped: 'refused', refusal: verdict };
      }
      if (!verdict.ok) return recordFailureIn(tx, userId, asFailure(message, 'clock-ahead', verdict.detail));
    }
    const overflow = figureBeyondColumns(message);
    if (overflow) return recordFailureIn(tx, userId, asFailure(message, 'out-of-range', overflow));

    const inserted = await tx.maybeOne(sql.type(scanIdRow)`
      INSERT INTO xfc_scan (scan_id, request_id, user_id, username, status, work_dir, age_basis, scan_now,
                            started_at, finished_at, files, directories, symlinks, others, bytes, allocated_bytes,
                            temporal_byte_days, errors, top_directories, age_histogram)
      VALUES (${message.scanId}, ${message.requestId}, ${userId}, ${message.username}, ${message.status},
              ${message.workDir}, ${message.ageBasis}, ${timestamptz(message.now)},
              ${timestamptz(message.startedAt)}, ${timestamptz(message.finishedAt)},
              ${message.totals.files}, ${message.totals.directories}, ${message.totals.symlinks},
              ${message.totals.others}, ${bytes}, ${BigInt(message.totals.allocatedBytes)}, ${temporal},
              ${sql.jsonb(message.errors)}, ${sql.jsonb(message.topDirectories)},
              ${sql.jsonb(message.ageHistogram)})
      ON CONFLICT (scan_id) DO NOTHING
      RETURNING scan_id AS "scanId"
    `);
    if (!inserted) {
      // Applied before, e.g. by an attempt whose commit landed but whose worker died before reporting it: answer as
      // that attempt did. (This statement sees the row: the INSERT above waited for the transaction that wrote it.)
      const earlier = await tx.one(sql.type(usageAppliedRow)`
        SELECT usage_applied AS "usageApplied" FROM xfc_scan WHERE scan_id = ${message.scanId}`);
      return { applied: false, usageUpdated: earlier.usageApplied, userId, skipped: 'already-applied' };
    }

    await recordDirectoryScans(tx, userId, message);
    const moved = await moveUsageForward(tx, { userId, scannedAt: message.now, temporalByteDays: temporal, bytes });
    if (moved) {
      await refreshVolumeUsage(tx, moved.diskId);
      await tx.query(sql.unsafe`UPDATE xfc_scan SET usage_applied = true WHERE scan_id = ${message.scanId}`);
    }
    const usageUpdated = moved !== null;

    await tx.query(sql.unsafe`
      INSERT INTO xfc_user_state AS s (user_id, last_scan_id, last_scan_status, last_scan_at)
      VALUES (${userId},
              ${usageUpdated ? message.scanId : null},
              ${usageUpdated ? message.status : null},
              ${usageUpdated ? timestamptz(message.now) : null})
      ON CONFLICT (user_id) DO UPDATE SET
        last_scan_id = CASE WHEN ${usageUpdated} THEN EXCLUDED.last_scan_id ELSE s.last_scan_id END,
        last_scan_status = CASE WHEN ${usageUpdated} THEN EXCLUDED.last_scan_status ELSE s.last_scan_status END,
        last_scan_at = CASE WHEN ${usageUpdated} THEN EXCLUDED.last_scan_at ELSE s.last_scan_at END,
        outstanding_request_id = CASE WHEN s.outstanding_request_id = ${message.requestId}
                                      THEN NULL ELSE s.outstanding_request_id END,
        requested_at = CASE WHEN s.outstanding_request_id = ${message.requestId} THEN NULL ELSE s.requested_at END
    `);
    return { applied: true, usageUpdated, userId };
  });
}

/**
 * Sets a volume's used_bytes to the sum of its users' total_used. The row lock comes first, in its own statement:
 * the sum is then read by a later statement whose snapshot includes every apply that held the lock before us.
 */
export async function refreshVolumeUsage(tx: DatabaseTransactionConnection, diskId: DbId): Promise<void> {
  await tx.query(sql.unsafe`SELECT 1 FROM xfc_control_cachedisk WHERE id = ${diskId} FOR NO KEY UPDATE`);
  await tx.query(sql.unsafe`
    UPDATE xfc_control_cachedisk
    SET used_bytes = (SELECT COALESCE(SUM(total_used), 0) FROM xfc_control_user WHERE cache_disk_id = ${diskId})
    WHERE id = ${diskId}
  `);
}

export interface RecordFailureOptions {
  /** When the scan failed; the database's clock by default (scan.failed carries no time). */
  failedAt?: Date;
}

/** Records a failed scan: history and the user's last failure; usage is untouched. */
export async function recordScanFailed(
  pool: DatabasePool,
  message: ScanFailed,
  options: RecordFailureOptions & RecordOptions = {},
): Promise<ApplyOutcome> {
  return pool.transaction(async (tx) => {
    const userId = await lookUpUser(tx, message.username);
    if (userId === null) return { applied: false, usageUpdated: false, userId, skipped: 'unknown-user' };
    if (options.verify ?? true) {
      // A failure clears the user's outstanding request: it too must come from a scan xfc issued for that user.
      const verdict = await verifyScanResult(tx, message);
      if (!verdict.ok) return { applied: false, usageUpdated: false, userId, skipped: 'refused', refusal: verdict };
    }
    return recordFailureIn(tx, userId, message, options.failedAt);
  });
}

/**
 * Records a result xfc issued but cannot apply as a failed scan with a permanent reason (e.g. a PostgreSQL data
 * exception while applying it), once per scan id, without checking it again: the caller already did.
 */
export async function recordPermanentFailure(
  pool: DatabasePool,
  message: ScanCompleted | ScanFailed,
  reason: PermanentFailureReason,
  detail: string,
): Promise<ApplyOutcome> {
  return pool.transaction(async (tx) => {
    const userId = await lookUpUser(tx, message.username);
    if (userId === null) return { applied: false, usageUpdated: false, userId, skipped: 'unknown-user' };
    return recordFailureIn(tx, userId, asFailure(message, reason, detail));
  });
}

/** The failure a result is recorded as when it cannot be applied. */
function asFailure(message: ScanCompleted | ScanFailed, reason: PermanentFailureReason, detail: string): ScanFailed {
  return {
    version: 1,
    scanId: message.scanId,
    requestId: message.requestId,
    username: message.username,
    reason,
    message: detail.slice(0, 2000),
  };
}

/** The first figure of a result that PostgreSQL's bigint columns cannot hold, described; undefined if all fit. */
export function figureBeyondColumns(message: ScanCompleted): string | undefined {
  const figures: Array<[string, string | number]> = [
    ['totals.bytes', message.totals.bytes],
    ['totals.allocatedBytes', message.totals.allocatedBytes],
    ['totals.temporalByteDays', message.totals.temporalByteDays],
    ['totals.files', message.totals.files],
    ['totals.directories', message.totals.directories],
    ['totals.symlinks', message.totals.symlinks],
    ['totals.others', message.totals.others],
  ];
  for (const [name, value] of figures) {
    if (BigInt(value) > maxBigint) {
      return (
        `${name} = ${value} is more than PostgreSQL's bigint holds (${maxBigint}); the scan found ` +
        `${message.totals.bytes} apparent bytes in ${message.totals.allocatedBytes} allocated, e.g. huge sparse ` +
        'files. Usage was left as it was; look at the directory, the next scan measures it again.'
      );
    }
  }
  return undefined;
}

async function recordFailureIn(
  tx: DatabaseTransactionConnection,
  userId: DbId,
  message: ScanFailed,
  failedAtOption?: Date,
): Promise<ApplyOutcome> {
  const failedAt = failedAtOption ? timestamptz(failedAtOption) : sql.fragment`now()`;
  const inserted = await tx.maybeOne(sql.type(scanIdRow)`
    INSERT INTO xfc_scan (scan_id, request_id, user_id, username, status, failure_reason, failure_message,
                          finished_at)
    VALUES (${message.scanId}, ${message.requestId}, ${userId}, ${message.username}, 'failed', ${message.reason},
            ${message.message}, ${failedAt})
    ON CONFLICT (scan_id) DO NOTHING
    RETURNING scan_id AS "scanId"
  `);
  if (!inserted) return { applied: false, usageUpdated: false, userId, skipped: 'already-applied' };

  await tx.query(sql.unsafe`
    INSERT INTO xfc_user_state AS s (user_id, last_failed_at, last_failure_reason)
    VALUES (${userId}, ${failedAt}, ${message.reason})
    ON CONFLICT (user_id) DO UPDATE SET
      last_failure_reason = CASE WHEN s.last_failed_at IS NULL OR s.last_failed_at <= EXCLUDED.last_failed_at
                                 THEN EXCLUDED.last_failure_reason ELSE s.last_failure_reason END,
      last_failed_at = GREATEST(s.last_failed_at, EXCLUDED.last_failed_at),
      outstanding_request_id = CASE WHEN s.outstanding_request_id = ${message.requestId}
                                    THEN NULL ELSE s.outstanding_request_id END,
      requested_at = CASE WHEN s.outstanding_request_id = ${message.requestId} THEN NULL ELSE s.requested_at END
  `);
  const permanent = (permanentFailureReasons as readonly string[]).includes(message.reason);
  return {
    applied: true,
    usageUpdated: false,
    userId,
    ...(permanent && { refusal: { reason: message.reason as PermanentFailureReason, detail: message.message } }),
  };
}

export interface ScanRecord {
  scanId: string;
  requestId: string | null;
  username: string;
  status: 'complete' | 'partial' | 'failed';
  workDir: string | null;
  ageBasis: string | null;
  /** The scan's reference time ("now"). */
  scanNow: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  appliedAt: Date;
  /** False for a scan recorded after a newer one: history only. */
  usageApplied: boolean;
  files: bigint | null;
  directories: bigint | null;
  symlinks: bigint | null;
  others: bigint | null;
  bytes: bigint | null;
  allocatedBytes: bigint | null;
  temporalByteDays: bigint | null;
  errors: ScanErrors | null;
  topDirectories: TopDirectories | null;
  ageHistogram: AgeBucket[] | null;
  failureReason: string | null;
  failureMessage: string | null;
}

const scanRow = z.object({
  scanId: z.string(),
  requestId: z.string().nullable(),
  username: z.string(),
  status: z.enum(['complete', 'partial', 'failed']),
  workDir: z.string().nullable(),
  ageBasis: z.string().nullable(),
  scanNow: z.date().nullable(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  appliedAt: z.date(),
  usageApplied: z.boolean(),
  files: z.bigint().nullable(),
  directories: z.bigint().nullable(),
  symlinks: z.bigint().nullable(),
  others: z.bigint().nullable(),
  bytes: z.bigint().nullable(),
  allocatedBytes: z.bigint().nullable(),
  temporalByteDays: z.bigint().nullable(),
  errors: scanErrors.nullable(),
  topDirectories: topDirectories.nullable(),
  ageHistogram: ageHistogram.nullable(),
  failureReason: z.string().nullable(),
  failureMessage: z.string().nullable(),
});

/** The user's most recent scans (by when they were applied), newest first. */
export async function recentScans(pool: DatabasePool, username: string, limit = 10): Promise<ScanRecord[]> {
  const rows = await pool.any(sql.type(scanRow)`
    SELECT scan_id AS "scanId", request_id AS "requestId", username, status, work_dir AS "workDir",
           age_basis AS "ageBasis", scan_now AS "scanNow", started_at AS "startedAt", finished_at AS "finishedAt",
           applied_at AS "appliedAt", usage_applied AS "usageApplied", files, directories, symlinks, others, bytes,
           allocated_bytes AS "allocatedBytes", temporal_byte_days AS "temporalByteDays", errors,
           top_directories AS "topDirectories", age_histogram AS "ageHistogram",
           failure_reason AS "failureReason", failure_message AS "failureMessage"
    FROM xfc_scan
    WHERE user_id IN (SELECT id FROM xfc_control_user WHERE name = ${username})
    ORDER BY applied_at DESC, scan_id
    LIMIT ${limit}
  `);
  return [...rows];
}
