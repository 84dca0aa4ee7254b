import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { timestamptz } from './values.js';

/**
 * The fleet's health as a few numbers, in one cheap statement over the users (not the scan history): how fresh the
 * scans are, who is over or near a quota, and when the sweep last ran. The control worker exports them as gauges on
 * scrape, and `xfc doctor` prints them.
 */

export interface FleetHealth {
  users: number;
  neverScanned: number;
  /** Users whose last scan is older than each of `withinDays` (never-scanned users included). */
  notScannedWithin: Array<{ days: number; users: number }>;
  /** The oldest last_scanned among scanned users; null when nobody has been scanned. */
  oldestScan: Date | null;
  overQuota: { hard: number; temporal: number };
  /** At or above warnPercent and below overPercent. */
  nearQuota: { hard: number; temporal: number };
  /** When a sweep last claimed (or found nobody due); null when no sweep ever ran. */
  lastSweep: Date | null;
  volumes: Array<{ volume: string; capacityBytes: number; usedBytes: number }>;
}

const healthRow = z.object({
  users: z.number(),
  neverScanned: z.number(),
  notScanned: z.array(z.number()),
  oldestScan: z.date().nullable(),
  overHard: z.number(),
  overTemporal: z.number(),
  nearHard: z.number(),
  nearTemporal: z.number(),
  lastSweep: z.date().nullable(),
});
const volumeRow = z.object({ mountpoint: z.string(), capacityBytes: z.number(), usedBytes: z.number() });

/** Before this, a user was never measured (Django's 1900-01-01, or no value at all). */
const neverBefore = '1901-01-01 00:00:00+00';

export async function readFleetHealth(
  db: CommonQueryMethods,
  options: { now: Date; warnPercent: number; overPercent: number; withinDays: number[] },
): Promise<FleetHealth> {
  const now = timestamptz(options.now);
  const within = sql.array(options.withinDays, 'int4');
  // Percent comparisons in numeric: used * 100 >= quota * percent, exact for bigints; a zero quota with usage is over.
  const at = (column: string, quota: string, percent: number): ReturnType<typeof sql.fragment> =>
    sql.fragment`(${sql.identifier([column])}::numeric * 100 >= ${sql.identifier([quota])}::numeric * ${percent}
                 AND ${sql.identifier([column])} > 0)`;
  // last_scanned is xfc's own copy (xfc_user_state; Django's column exists only after the app's 0002): -infinity = never.
  const row = await db.one(sql.type(healthRow)`
    WITH users AS (
      SELECT u.total_used, u.hard_limit_size, u.quota_used, u.quota_size,
             COALESCE(s.last_scanned, '-infinity'::timestamptz) AS last_scanned
      FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id
    )
    SELECT count(*)::int AS users,
           count(*) FILTER (WHERE last_scanned < ${neverBefore})::int AS "neverScanned",
           ARRAY(SELECT count(*) FILTER (WHERE u2.last_scanned < ${now} - make_interval(days => d))::int
                 FROM unnest(${within}) AS w(d) CROSS JOIN users u2 GROUP BY w.d ORDER BY w.d)
             AS "notScanned",
           min(last_scanned) FILTER (WHERE last_scanned >= ${neverBefore}) AS "oldestScan",
           count(*) FILTER (WHERE ${at('total_used', 'hard_limit_size', options.overPercent)})::int AS "overHard",
           count(*) FILTER (WHERE ${at('quota_used', 'quota_size', options.overPercent)})::int AS "overTemporal",
           count(*) FILTER (WHERE ${at('total_used', 'hard_limit_size', options.warnPercent)}
                            AND NOT ${at('total_used', 'hard_limit_size', options.overPercent)})::int AS "nearHard",
           count(*) FILTER (WHERE ${at('quota_used', 'quota_size', options.warnPercent)}
                            AND NOT ${at('quota_used', 'quota_size', options.overPercent)})::int AS "nearTemporal",
           (SELECT last_run_at FROM xfc_sweep_run) AS "lastSweep"
    FROM users`);
  const volumes = await db.any(sql.type(volumeRow)`
    SELECT mountpoint, size_bytes::float8 AS "capacityBytes", used_bytes::float8 AS "usedBytes"
    FROM xfc_control_cachedisk ORDER BY mountpoint`);
  const sorted = [...options.withinDays].sort((a, b) => a - b);
  return {
    users: row.users,
    neverScanned: row.neverScanned,
    notScannedWithin: sorted.map((days, index) => ({ days, users: row.notScanned[index] ?? 0 })),
    oldestScan: row.oldestScan,
    overQuota: { hard: row.overHard, temporal: row.overTemporal },
    nearQuota: { hard: row.nearHard, temporal: row.nearTemporal },
    lastSweep: row.lastSweep,
    volumes: volumes.map((volume) => ({
      volume: volume.mountpoint.replace(/\/+$/, '').split('/').pop() ?? volume.mountpoint,
      capacityBytes: volume.capacityBytes,
      usedBytes: volume.usedBytes,
    })),
  };
}

/** Records that a sweep ran (called by the claim activity, whether it claimed anyone or not). */
export async function recordSweepRun(
  pool: DatabasePool,
  run: { at: Date; claimId: string; claimed: number },
): Promise<void> {
  await pool.query(sql.unsafe`
    INSERT INTO xfc_sweep_run (singleton, last_run_at, last_claim_id, last_claimed)
    VALUES (true, ${timestamptz(run.at)}, ${run.claimId}, ${run.claimed})
    ON CONFLICT (singleton) DO UPDATE SET
      last_run_at = GREATEST(xfc_sweep_run.last_run_at, EXCLUDED.last_run_at),
      last_claim_id = EXCLUDED.last_claim_id, last_claimed = EXCLUDED.last_claimed`);
}
