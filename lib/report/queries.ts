import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { ageHistogram, topDirectories, type AgeBucket, type TopDirectories } from '../messages/v1/index.js';
import { listUsers, type UserUsage } from '../../db/users.js';
import { timestamptz } from '../../db/values.js';
import { largestUsers } from './series.js';

/**
 * Everything the report draws, read from the database in one read-only transaction. Ids are read as text (they may
 * be bigint); byte figures for charts are read as float8, which is exact enough to draw (bigints stay bigints in
 * the user list, which comes from db/users.ts). History is reduced to one point per user and UTC day in SQL, so a
 * year of 2,000 users is 730,000 rows scanned but only 2,000 rows sent to us.
 */

export interface ReportQuery {
  /** History from this time. */
  since: Date;
  /** The report's clock. */
  now: Date;
  /** Only this volume (`vol5` or the full mountpoint). */
  volume?: string | undefined;
  /** The per-user view of this user (their history and latest scan only). */
  user?: string | undefined;
  /** Without `user`: also load the latest scan of each volume's `detailUsers` largest users (0 = none). */
  detailUsers?: number;
}

export interface VolumeInfo {
  id: string;
  /** Last component of the mountpoint, e.g. `vol5`. */
  name: string;
  mountpoint: string;
  sizeBytes: number;
  /** Django's allocated_bytes for the volume. */
  allocatedBytes: number;
  usedBytes: number;
  users: number;
  /** Sums of the current quotas of the volume's users. */
  hardQuotaBytes: number;
  temporalQuotaByteDays: number;
}

/** One user's history: per UTC day (days since the epoch), the last measurement of that day. */
export interface UserHistory {
  userId: string;
  days: number[];
  bytes: number[];
  temporal: number[];
}

export interface LatestScan {
  scanId: string;
  status: string;
  scanNow: Date | null;
  topDirectories: TopDirectories | null;
  ageHistogram: AgeBucket[] | null;
}

export interface ScanHealth {
  /** Failed scans in the window, by reason. */
  failuresByReason: Array<{ reason: string; count: number }>;
  /** Scans per day in the window, by status. */
  scansPerDay: Array<{ day: number; complete: number; partial: number; failed: number }>;
  /** Durations (finished - started) of the window's complete and partial scans, in seconds, bucketed. */
  durations: Array<{ bucket: number; count: number }>;
}

export interface ReportData {
  query: ReportQuery;
  volumes: VolumeInfo[];
  users: UserUsage[];
  history: Map<string, UserHistory>;
  health: ScanHealth;
  /** Latest scans of the users shown in detail, by username. */
  latest: Map<string, LatestScan | null>;
}

/** Upper bounds (seconds) of the scan duration buckets; the last bucket is open. */
export const durationBuckets = [1, 10, 60, 600, 3600] as const;

const volumeRow = z.object({
  id: z.string(),
  mountpoint: z.string(),
  sizeBytes: z.number(),
  allocatedBytes: z.number(),
  usedBytes: z.number(),
  users: z.number(),
  hardQuotaBytes: z.number(),
  temporalQuotaByteDays: z.number(),
});

const historyRow = z.object({ userId: z.string(), points: z.string() });
const failureRow = z.object({ reason: z.string(), count: z.number() });
const perDayRow = z.object({ day: z.number(), complete: z.number(), partial: z.number(), failed: z.number() });
const durationRow = z.object({ bucket: z.number(), count: z.number() });
const latestRow = z.object({
  scanId: z.string(),
  status: z.string(),
  scanNow: z.date().nullable(),
  topDirectories: topDirectories.nullable().catch(null),
  ageHistogram: ageHistogram.nullable().catch(null),
});

export function volumeName(mountpoint: string): string {
  const trimmed = mountpoint.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function volumeFilter(volume: string | undefined): ReturnType<typeof sql.fragment> {
  if (!volume) return sql.fragment`TRUE`;
  const trimmed = volume.replace(/\/+$/, '');
  return sql.fragment`(rtrim(d.mountpoint, '/') = ${trimmed}
    OR right(rtrim(d.mountpoint, '/'), ${trimmed.length + 1}) = ${`/${trimmed}`})`;
}

async function loadVolumes(db: CommonQueryMethods, volume: string | undefined): Promise<VolumeInfo[]> {
  const rows = await db.any(sql.type(volumeRow)`
    SELECT d.id::text AS id, d.mountpoint, d.size_bytes::float8 AS "sizeBytes",
           d.allocated_bytes::float8 AS "allocatedBytes", d.used_bytes::float8 AS "usedBytes",
           count(u.id)::int AS users, COALESCE(sum(u.hard_limit_size), 0)::float8 AS "hardQuotaBytes",
           COALESCE(sum(u.quota_size), 0)::float8 AS "temporalQuotaByteDays"
    FROM xfc_control_cachedisk d
    LEFT JOIN xfc_control_user u ON u.cache_disk_id = d.id
    WHERE ${volumeFilter(volume)}
    GROUP BY d.id
    ORDER BY d.mountpoint`);
  return rows.map((row) => ({ ...row, name: volumeName(row.mountpoint) }));
}

/**
 * Per user, the last measurement of each UTC day since `since`, plus the last one before `since` (drawn at
 * `since`, so a user scanned rarely does not drop out of the stack at the window's start). Packed as
 * "day:bytes:temporal,…" so that a user is one row.
 */
async function loadHistory(db: CommonQueryMethods, query: ReportQuery): Promise<Map<string, UserHistory>> {
  const sinceDay = Math.floor(query.since.getTime() / 86_400_000);
  const userFilter = query.user
    ? sql.fragment`u.name = ${query.user}`
    : sql.fragment`u.cache_disk_id IN (SELECT d.id FROM xfc_control_cachedisk d WHERE ${volumeFilter(query.volume)})`;
  const rows = await db.any(sql.type(historyRow)`
    WITH users AS (SELECT u.id FROM xfc_control_user u WHERE ${userFilter}),
    daily AS (
      SELECT DISTINCT ON (s.user_id, day) s.user_id, day, s.bytes, s.temporal_byte_days
      FROM xfc_scan s
      CROSS JOIN LATERAL (SELECT floor(extract(epoch FROM s.scan_now) / 86400)::int AS day) d
      WHERE s.user_id IN (SELECT id FROM users) AND s.status <> 'failed' AND s.bytes IS NOT NULL
        AND s.scan_now >= ${timestamptz(query.since)} AND s.scan_now <= ${timestamptz(query.now)}
      ORDER BY s.user_id, day, s.scan_now DESC
    ),
    before AS (
      SELECT DISTINCT ON (s.user_id) s.user_id, ${sinceDay}::int AS day, s.bytes, s.temporal_byte_days
      FROM xfc_scan s
      WHERE s.user_id IN (SELECT id FROM users) AND s.status <> 'failed' AND s.bytes IS NOT NULL
        AND s.scan_now < ${timestamptz(query.since)}
      ORDER BY s.user_id, s.scan_now DESC
    )
    SELECT user_id::text AS "userId",
           string_agg(day || ':' || bytes || ':' || COALESCE(temporal_byte_days, 0), ',' ORDER BY day) AS points
    FROM (SELECT * FROM before UNION ALL SELECT * FROM daily) p
    GROUP BY user_id`);
  const history = new Map<string, UserHistory>();
  for (const row of rows) {
    const entry: UserHistory = { userId: row.userId, days: [], bytes: [], temporal: [] };
    for (const point of row.points.split(',')) {
      const [day, bytes, temporal] = point.split(':');
      const dayNumber = Number(day);
      // "before" and the window's first day may share a day: the later (the window's) wins.
      if (entry.days.at(-1) === dayNumber) {
        entry.bytes[entry.bytes.length - 1] = Number(bytes);
        entry.temporal[entry.temporal.length - 1] = Number(temporal);
        continue;
      }
      entry.days.push(dayNumber);
      entry.bytes.push(Number(bytes));
      entry.temporal.push(Number(temporal));
    }
    history.set(row.userId, entry);
  }
  return history;
}

async function loadHealth(db: CommonQueryMethods, query: ReportQuery): Promise<ScanHealth> {
  const scope = query.user
    ? sql.fragment`s.user_id IN (SELECT u.id FROM xfc_control_user u WHERE u.name = ${query.user})`
    : sql.fragment`s.user_id IN (SELECT u.id FROM xfc_control_user u JOIN xfc_control_cachedisk d
                                 ON d.id = u.cache_disk_id WHERE ${volumeFilter(query.volume)})`;
  const window = sql.fragment`s.applied_at >= ${timestamptz(query.since)} AND s.applied_at <= ${timestamptz(query.now)}`;
  const failures = await db.any(sql.type(failureRow)`
    SELECT COALESCE(s.failure_reason, 'unknown') AS reason, count(*)::int AS count
    FROM xfc_scan s WHERE s.status = 'failed' AND ${window} AND ${scope}
    GROUP BY 1 ORDER BY 2 DESC, 1`);
  const perDay = await db.any(sql.type(perDayRow)`
    SELECT floor(extract(epoch FROM s.applied_at) / 86400)::int AS day,
           count(*) FILTER (WHERE s.status = 'complete')::int AS complete,
           count(*) FILTER (WHERE s.status = 'partial')::int AS partial,
           count(*) FILTER (WHERE s.status = 'failed')::int AS failed
    FROM xfc_scan s WHERE ${window} AND ${scope}
    GROUP BY 1 ORDER BY 1`);
  const bounds = sql.array([...durationBuckets], 'float8');
  const durations = await db.any(sql.type(durationRow)`
    SELECT width_bucket(extract(epoch FROM s.finished_at - s.started_at)::float8, ${bounds})::int AS bucket,
           count(*)::int AS count
    FROM xfc_scan s
    WHERE s.status <> 'failed' AND s.started_at IS NOT NULL AND s.finished_at IS NOT NULL AND ${window} AND ${scope}
    GROUP BY 1 ORDER BY 1`);
  return { failuresByReason: [...failures], scansPerDay: [...perDay], durations: [...durations] };
}

async function loadLatestScan(db: CommonQueryMethods, username: string): Promise<LatestScan | null> {
  return db.maybeOne(sql.type(latestRow)`
    SELECT s.scan_id AS "scanId", s.status, s.scan_now AS "scanNow", s.top_directories AS "topDirectories",
           s.age_histogram AS "ageHistogram"
    FROM xfc_scan s
    WHERE s.user_id IN (SELECT id FROM xfc_control_user WHERE name = ${username} ORDER BY id LIMIT 1)
      AND s.status <> 'failed'
    ORDER BY s.scan_now DESC NULLS LAST, s.applied_at DESC
    LIMIT 1`);
}

/** Reads everything in one READ ONLY transaction: a consistent picture, and the report can never write. */
export async function loadReportData(pool: DatabasePool, query: ReportQuery): Promise<ReportData> {
  return pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION READ ONLY`);
    const volumes = await loadVolumes(tx, query.volume);
    // listUsers only reads (pool.any); a transaction connection has the same query methods.
    const users = await listUsers(tx as unknown as DatabasePool, query.volume ? { volume: query.volume } : {});
    const history = await loadHistory(tx, query);
    const health = await loadHealth(tx, query);
    const latest = new Map<string, LatestScan | null>();
    const details = query.user
      ? [query.user]
      : volumes.flatMap((volume) =>
          largestUsers(
            users.filter((user) => user.volume === volume.name),
            query.detailUsers ?? 0,
          ).map((user) => user.username),
        );
    for (const username of details) latest.set(username, await loadLatestScan(tx, username));
    return { query, volumes, users, history, health, latest };
  });
}
