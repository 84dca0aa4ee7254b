import { sql } from 'slonik';
import { backfillUsers } from '../../lib/backfill/index.js';
import { TiB } from '../../lib/common/units.js';
import type { DatabasePool } from '../../db/pool.js';

/**
 * Inserts a volume (if absent) and a user the way Django does: every original column given. Tests use it for rows
 * that backfill would refuse to create (a work directory outside XFC_ROOT, a missing directory).
 */
export async function insertUser(
  pool: DatabasePool,
  user: {
    name: string;
    mountpoint: string;
    email?: string;
    notify?: boolean;
    temporalQuota?: bigint;
    hardQuota?: bigint;
  },
): Promise<void> {
  await pool.query(sql.unsafe`
    INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
    VALUES (${user.mountpoint}, ${String(200n * TiB)}, 0, 0)
    ON CONFLICT (mountpoint) DO NOTHING`);
  await pool.query(sql.unsafe`
    INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used, cache_path, cache_disk_id)
    SELECT ${user.name}, ${user.email ?? `${user.name}@example.org`}, ${user.notify ?? true},
           ${String(user.temporalQuota ?? 300n * TiB)}, 0, ${String(user.hardQuota ?? 40n * TiB)}, 0,
           ${`user_cache/${user.name}`}, id
    FROM xfc_control_cachedisk WHERE mountpoint = ${user.mountpoint}`);
}

/**
 * Registers the users whose work directories are under `root`, as `xfc users backfill` would, with standard quotas
 * (300 TiB·day, 40 TiB); `emails` gives addresses, and users without one get notify off.
 */
export async function registerUsersFromTree(
  pool: DatabasePool,
  root: string,
  emails: Record<string, string> = {},
): Promise<void> {
  await backfillUsers(pool, {
    root,
    exclude: [],
    temporalQuota: 300n * TiB,
    hardQuota: 40n * TiB,
    emails: new Map(Object.entries(emails)),
    notify: true,
    dryRun: false,
  });
}
