import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { GiB, TiB } from '../common/units.js';
import { ageBucketLabels, ageBucketLimits } from '../messages/v1/index.js';
import { seededRandom } from '../common/random.js';

/**
 * A made-up but plausible history for showing and benchmarking the report: `users` users spread over volumes, each
 * with `days` days of scans (most days one complete scan; some missed, some partial, some failed). Each user
 * deposits data in batches and now and then cleans up the oldest; temporal usage is Σ size × (age in days + 1), as
 * the walker counts it. Deterministic for a seed. Writes Django's user rows and xfc_scan rows directly (in batches
 * of unnest inserts), then sets each user's current usage and the volumes' used_bytes as an apply would.
 */

export interface SyntheticHistoryOptions {
  users: number;
  days: number;
  now: Date;
  /** Mountpoints; existing volumes are reused, missing ones created (default: the existing volumes, or /work/xfc/vol1..vol3). */
  volumes?: string[];
  seed?: number;
  /** Username prefix (default "user"). */
  prefix?: string;
}

const dayMs = 86_400_000;
const failureReasons = ['walk-failed', 'work-dir-missing', 'work-dir-not-directory', 'work-dir-symlink'];
const directoryNames = ['runs', 'model-output', 'era5', 'cmip6', 'tmp', 'analysis', 'plots', 'scratch', 'logs', '.'];

interface Deposit {
  day: number;
  bytes: number;
}

interface ScanRow {
  scanId: string;
  userId: number;
  username: string;
  status: string;
  at: Date;
  durationMs: number;
  bytes: bigint | null;
  temporal: bigint | null;
  files: number | null;
  top: string | null;
  ages: string | null;
  reason: string | null;
}

const idRow = z.object({ id: z.number(), name: z.string() });
const diskRow = z.object({ id: z.number(), mountpoint: z.string() });

export async function generateHistory(
  pool: DatabasePool,
  options: SyntheticHistoryOptions,
): Promise<{ scans: number }> {
  const rand = seededRandom(options.seed ?? 17);
  const prefix = options.prefix ?? 'user';
  const existing = await pool.anyFirst(
    sql.type(z.object({ mountpoint: z.string() }))`SELECT mountpoint FROM xfc_control_cachedisk ORDER BY mountpoint`,
  );
  const mountpoints =
    options.volumes ?? (existing.length > 0 ? [...existing] : ['/work/xfc/vol1', '/work/xfc/vol2', '/work/xfc/vol3']);
  for (const [index, mountpoint] of mountpoints.entries()) {
    const size = BigInt(200 + 100 * index) * TiB;
    await pool.query(sql.unsafe`
      INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
      VALUES (${mountpoint}, ${String(size)}, ${String(size)}, 0) ON CONFLICT (mountpoint) DO NOTHING`);
  }
  const disks = await pool.any(
    sql.type(
      diskRow,
    )`SELECT id, mountpoint FROM xfc_control_cachedisk WHERE mountpoint = ANY(${sql.array(mountpoints, 'text')})`,
  );

  // Quotas: most users 2–10 TiB hard; temporal quota ≈ 30 days of the hard quota.
  const names: string[] = [];
  const volumeOf: number[] = [];
  const hardQuotas: number[] = [];
  for (let index = 0; index < options.users; index++) {
    names.push(`${prefix}${String(index + 1).padStart(4, '0')}`);
    volumeOf.push(disks[Math.floor(rand() ** 1.3 * disks.length)]!.id);
    hardQuotas.push([2, 2, 4, 4, 5, 8, 10, 20][Math.floor(rand() * 8)]! * Number(TiB));
  }
  await pool.query(sql.unsafe`
    INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                  cache_path, cache_disk_id)
    SELECT n, n || '@example.org', true, (q * 30)::bigint, 0, q::bigint, 0, 'user_cache/' || n, d
    FROM unnest(${sql.array(names, 'text')}, ${sql.array(hardQuotas, 'float8')}, ${sql.array(volumeOf, 'int4')})
      AS t(n, q, d)`);
  const ids = await pool.any(
    sql.type(idRow)`SELECT id, name FROM xfc_control_user WHERE name = ANY(${sql.array(names, 'text')})`,
  );
  const idOf = new Map(ids.map((row) => [row.name, row.id]));

  const firstDay = Math.floor(options.now.getTime() / dayMs) - options.days + 1;
  let batch: ScanRow[] = [];
  let scans = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    scans += rows.length;
    await pool.query(sql.unsafe`
      INSERT INTO xfc_scan (scan_id, request_id, user_id, username, status, work_dir, age_basis, scan_now, started_at,
                            finished_at, applied_at, usage_applied, files, directories, symlinks, others, bytes,
                            allocated_bytes, temporal_byte_days, errors, top_directories, age_histogram,
                            failure_reason, failure_message)
      SELECT id, id, uid, uname, st, '/work/xfc/' || uname, CASE WHEN st = 'failed' THEN NULL ELSE 'ctime' END,
             CASE WHEN st = 'failed' THEN NULL ELSE at END, at - make_interval(secs => dur / 1000.0), at, at,
             st <> 'failed', files, CASE WHEN st = 'failed' THEN NULL ELSE files / 20 END, 0, 0, b, b, t,
             NULL, top::jsonb, ages::jsonb, reason,
             CASE WHEN reason IS NULL THEN NULL ELSE 'synthetic history: ' || reason END
      FROM unnest(${sql.array(
        rows.map((row) => row.scanId),
        'text',
      )},
                  ${sql.array(
                    rows.map((row) => row.userId),
                    'int4',
                  )},
                  ${sql.array(
                    rows.map((row) => row.username),
                    'text',
                  )},
                  ${sql.array(
                    rows.map((row) => row.status),
                    'text',
                  )},
                  ${sql.array(
                    rows.map((row) => row.at.toISOString()),
                    'timestamptz',
                  )},
                  ${sql.array(
                    rows.map((row) => row.durationMs),
                    'float8',
                  )},
                  ${sql.array(
                    rows.map((row) => row.files),
                    'int8',
                  )},
                  ${sql.array(
                    rows.map((row) => (row.bytes === null ? null : String(row.bytes))),
                    'int8',
                  )},
                  ${sql.array(
                    rows.map((row) => (row.temporal === null ? null : String(row.temporal))),
                    'int8',
                  )},
                  ${sql.array(
                    rows.map((row) => row.top),
                    'text',
                  )},
                  ${sql.array(
                    rows.map((row) => row.ages),
                    'text',
                  )},
                  ${sql.array(
                    rows.map((row) => row.reason),
                    'text',
                  )})
        AS r(id, uid, uname, st, at, dur, files, b, t, top, ages, reason)`);
  };

  for (const [index, username] of names.entries()) {
    const userId = idOf.get(username)!;
    const quota = hardQuotas[index]!;
    // Habits: how fast they fill, the level at which they clean up, how long they keep data.
    const fill = quota * (0.001 + rand() * 0.012);
    const target = quota * (0.15 + rand() ** 1.5 * 1.2);
    const keepDays = 10 + Math.floor(rand() ** 2 * 120);
    const cleanEvery = 7 + Math.floor(rand() * 60);
    const joinedDay = firstDay + (rand() < 0.25 ? Math.floor(rand() * options.days * 0.8) : 0);
    const flaky = rand() < 0.05;
    const stopsScanning = rand() < 0.02;
    let deposits: Deposit[] = [];
    let held = 0;
    for (let day = joinedDay; day < firstDay + options.days; day++) {
      if (rand() < 0.35) {
        const bytes = fill * (0.3 + rand() * 4);
        deposits.push({ day, bytes });
        held += bytes;
      }
      if ((day - joinedDay) % cleanEvery === cleanEvery - 1 || held > target * 1.1) {
        // A clean-up: what is older than they keep, then the oldest until well under their level.
        deposits = deposits.filter((deposit) => day - deposit.day < keepDays);
        held = deposits.reduce((sum, deposit) => sum + deposit.bytes, 0);
        while (held > target * 0.7 && deposits.length > 1 && rand() < 0.9) held -= deposits.shift()!.bytes;
      }
      if (stopsScanning && day > firstDay + options.days - 12) continue;
      if (rand() < 0.04) continue; // missed by the sweep that day
      const at = new Date(day * dayMs + (2 + rand() * 20) * 3_600_000);
      if (at.getTime() > options.now.getTime()) continue;
      const scanId = `synthetic-${username}-${day}`;
      const failed = rand() < (flaky ? 0.4 : 0.01);
      if (failed) {
        const reason = failureReasons[Math.floor(rand() ** 2 * failureReasons.length)]!;
        batch.push({
          scanId,
          userId,
          username,
          status: 'failed',
          at,
          durationMs: 200 + rand() * 3000,
          bytes: null,
          temporal: null,
          files: null,
          top: null,
          ages: null,
          reason,
        });
      } else {
        let bytes = 0;
        let temporal = 0;
        const buckets = [0, 0, 0, 0, 0];
        for (const deposit of deposits) {
          const age = day - deposit.day;
          bytes += deposit.bytes;
          temporal += deposit.bytes * (age + 1);
          const bucket = ageBucketLimits.findIndex((limit) => limit === null || age <= limit);
          buckets[bucket]! += deposit.bytes;
        }
        const files = Math.round(bytes / (50 * Number(GiB) * 0.001)) + 1;
        const isLast = day >= Math.floor(options.now.getTime() / dayMs) - 2;
        batch.push({
          scanId,
          userId,
          username,
          status: rand() < 0.03 ? 'partial' : 'complete',
          at,
          durationMs: 500 + files * (0.2 + rand()),
          bytes: BigInt(Math.round(bytes)),
          temporal: BigInt(Math.round(temporal)),
          files,
          top: isLast ? JSON.stringify(topDirectories(rand, bytes, temporal)) : null,
          ages: isLast
            ? JSON.stringify(
                ageBucketLabels.map((label, at) => ({
                  label,
                  maxDays: ageBucketLimits[at],
                  files: Math.round((files * buckets[at]!) / Math.max(1, bytes)),
                  bytes: String(Math.round(buckets[at]!)),
                })),
              )
            : null,
          reason: null,
        });
      }
      if (batch.length >= 20_000) await flush();
    }
  }
  await flush();

  // Current usage = the newest successful scan, as applying it would have set.
  await pool.query(sql.unsafe`
    UPDATE xfc_control_user u SET total_used = s.bytes, quota_used = s.temporal_byte_days
    FROM (SELECT DISTINCT ON (user_id) user_id, bytes, temporal_byte_days, scan_now FROM xfc_scan
          WHERE status <> 'failed' AND user_id = ANY(${sql.array([...idOf.values()], 'int4')})
          ORDER BY user_id, scan_now DESC) s
    WHERE u.id = s.user_id`);
  await pool.query(sql.unsafe`
    INSERT INTO xfc_user_state (user_id, last_scan_id, last_scan_status, last_scan_at, last_scanned, last_failed_at,
                                last_failure_reason)
    SELECT u.id, ok.scan_id, ok.status, ok.scan_now, ok.scan_now, bad.finished_at, bad.failure_reason
    FROM xfc_control_user u
    LEFT JOIN LATERAL (SELECT scan_id, status, scan_now FROM xfc_scan WHERE user_id = u.id AND status <> 'failed'
                       ORDER BY scan_now DESC LIMIT 1) ok ON true
    LEFT JOIN LATERAL (SELECT finished_at, failure_reason FROM xfc_scan WHERE user_id = u.id AND status = 'failed'
                       ORDER BY finished_at DESC LIMIT 1) bad ON true
    WHERE u.id = ANY(${sql.array([...idOf.values()], 'int4')})
    ON CONFLICT (user_id) DO NOTHING`);
  // Volumes as sites run them: hard quotas overcommitted about 1.6 times the capacity.
  await pool.query(sql.unsafe`
    UPDATE xfc_control_cachedisk d
    SET used_bytes = (SELECT COALESCE(sum(total_used), 0) FROM xfc_control_user WHERE cache_disk_id = d.id),
        size_bytes = GREATEST(d.size_bytes, (SELECT COALESCE(sum(hard_limit_size), 0) / 1.6
                                             FROM xfc_control_user WHERE cache_disk_id = d.id)::bigint),
        allocated_bytes = (SELECT COALESCE(sum(hard_limit_size), 0) FROM xfc_control_user WHERE cache_disk_id = d.id)
    WHERE d.id = ANY(${sql.array(
      disks.map((disk) => disk.id),
      'int4',
    )})`);
  return { scans };
}

function topDirectories(rand: () => number, bytes: number, temporal: number): unknown {
  const shares = directoryNames.map(() => rand() ** 3);
  const total = shares.reduce((sum, share) => sum + share, 0) || 1;
  const entries = directoryNames
    .map((path, index) => ({
      path,
      files: Math.round(1000 * rand()),
      bytes: String(Math.round((bytes * shares[index]!) / total)),
      temporalByteDays: String(Math.round((temporal * shares[index]!) / total)),
    }))
    .sort((a, b) => Number(b.bytes) - Number(a.bytes));
  return {
    byBytes: entries,
    byTemporal: [...entries].sort((a, b) => Number(b.temporalByteDays) - Number(a.temporalByteDays)),
  };
}
