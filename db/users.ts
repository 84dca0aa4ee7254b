import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from './ids.js';
import { percentOf } from '../lib/common/units.js';

/**
 * Reading users: where a user's work directory is, and their usage against both quotas with the scan and
 * notification state. Django's table may hold a name twice (it has no unique constraint); a single-user lookup then
 * takes the oldest row, and `xfc users backfill` reports the duplicate.
 */

/** What a scan needs: the work directory comes from here, never from a message. */
export interface WorkTarget {
  userId: DbId;
  username: string;
  mountpoint: string;
  /** Relative to the mountpoint, as Django stores it (normally `user_cache/<name>`). */
  cachePath: string;
  /** `mountpoint + '/' + cachePath`; the walker still checks that it is a real directory under XFC_ROOT. */
  workDir: string;
}

const workTargetRow = z.object({
  userId: dbId,
  username: z.string(),
  mountpoint: z.string(),
  cachePath: z.string(),
});

export async function findWorkTarget(pool: DatabasePool, username: string): Promise<WorkTarget | null> {
  const row = await pool.maybeOne(sql.type(workTargetRow)`
    SELECT u.id AS "userId", u.name AS username, d.mountpoint, u.cache_path AS "cachePath"
    FROM xfc_control_user u
    JOIN xfc_control_cachedisk d ON d.id = u.cache_disk_id
    WHERE u.name = ${username}
    ORDER BY u.id
    LIMIT 1
  `);
  if (!row) return null;
  return { ...row, workDir: joinWorkDir(row.mountpoint, row.cachePath) };
}

export function joinWorkDir(mountpoint: string, cachePath: string): string {
  return `${mountpoint.replace(/\/+$/, '')}/${cachePath.replace(/^\/+/, '')}`;
}

export type NotifyLevel = 'ok' | 'warning' | 'over';

export interface UserUsage {
  userId: DbId;
  username: string;
  email: string;
  notify: boolean;
  mountpoint: string;
  /** Last component of the mountpoint, e.g. `vol5`. */
  volume: string;
  cachePath: string;
  workDir: string;
  /** Temporal quota and usage, byte·days. */
  temporalQuota: bigint;
  temporalUsed: bigint;
  /** Hard quota and usage, bytes. */
  hardQuota: bigint;
  hardUsed: bigint;
  temporalPercent: number;
  hardPercent: number;
  /** The "now" of the scan behind the usage figures; null when the user has never been scanned. */
  lastScanned: Date | null;
  lastScanId: string | null;
  lastScanStatus: string | null;
  lastFailedAt: Date | null;
  lastFailureReason: string | null;
  outstandingRequestId: string | null;
  requestedAt: Date | null;
  notifyLevel: NotifyLevel;
  levelSince: Date | null;
  lastNotifiedAt: Date | null;
  lastNotifiedKind: string | null;
  lastNotifySkippedReason: string | null;
}

const usageRow = z.object({
  userId: dbId,
  username: z.string(),
  email: z.string(),
  notify: z.boolean(),
  mountpoint: z.string(),
  cachePath: z.string(),
  temporalQuota: z.bigint(),
  temporalUsed: z.bigint(),
  hardQuota: z.bigint(),
  hardUsed: z.bigint(),
  lastScanned: z.date().nullable(),
  lastScanId: z.string().nullable(),
  lastScanStatus: z.string().nullable(),
  lastFailedAt: z.date().nullable(),
  lastFailureReason: z.string().nullable(),
  outstandingRequestId: z.string().nullable(),
  requestedAt: z.date().nullable(),
  notifyLevel: z.enum(['ok', 'warning', 'over']),
  levelSince: z.date().nullable(),
  lastNotifiedAt: z.date().nullable(),
  lastNotifiedKind: z.string().nullable(),
  lastNotifySkippedReason: z.string().nullable(),
});

const usageSelect = sql.fragment`
  SELECT u.id AS "userId", u.name AS username, u.email, u.notify, d.mountpoint, u.cache_path AS "cachePath",
         u.quota_size AS "temporalQuota", u.quota_used AS "temporalUsed",
         u.hard_limit_size AS "hardQuota", u.total_used AS "hardUsed",
         s.last_scanned AS "lastScanned",
         s.last_scan_id AS "lastScanId", s.last_scan_status AS "lastScanStatus",
         s.last_failed_at AS "lastFailedAt", s.last_failure_reason AS "lastFailureReason",
         s.outstanding_request_id AS "outstandingRequestId", s.requested_at AS "requestedAt",
         COALESCE(s.notify_level, 'ok') AS "notifyLevel", s.level_since AS "levelSince",
         s.last_notified_at AS "lastNotifiedAt", s.last_notified_kind AS "lastNotifiedKind",
         s.last_notify_skipped_reason AS "lastNotifySkippedReason"
  FROM xfc_control_user u
  JOIN xfc_control_cachedisk d ON d.id = u.cache_disk_id
  LEFT JOIN xfc_user_state s ON s.user_id = u.id
`;

function toUsage(row: z.infer<typeof usageRow>): UserUsage {
  const mountpoint = row.mountpoint.replace(/\/+$/, '');
  return {
    ...row,
    volume: mountpoint.slice(mountpoint.lastIndexOf('/') + 1),
    workDir: joinWorkDir(row.mountpoint, row.cachePath),
    temporalPercent: percentOf(row.temporalUsed, row.temporalQuota),
    hardPercent: percentOf(row.hardUsed, row.hardQuota),
  };
}

export interface ListUsersOptions {
  /** Only users at or above `overPercent` (default 100) of either quota. */
  overQuota?: boolean;
  overPercent?: number;
  /** `vol5` (last component of the mountpoint) or the full mountpoint. */
  volume?: string;
}

export async function listUsers(pool: DatabasePool, options: ListUsersOptions = {}): Promise<UserUsage[]> {
  const volume = options.volume?.replace(/\/+$/, '');
  const where = volume
    ? sql.fragment`WHERE rtrim(d.mountpoint, '/') = ${volume} OR right(rtrim(d.mountpoint, '/'), ${volume.length + 1}) = ${`/${volume}`}`
    : sql.fragment``;
  const rows = await pool.any(sql.type(usageRow)`${usageSelect} ${where} ORDER BY u.name, u.id`);
  const users = rows.map(toUsage);
  if (!options.overQuota) return users;
  const threshold = options.overPercent ?? 100;
  return users.filter((user) => user.temporalPercent >= threshold || user.hardPercent >= threshold);
}

export async function getUser(pool: DatabasePool, username: string): Promise<UserUsage | null> {
  const row = await pool.maybeOne(sql.type(usageRow)`${usageSelect} WHERE u.name = ${username} ORDER BY u.id LIMIT 1`);
  return row ? toUsage(row) : null;
}
