import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from '../../db/ids.js';
import { refreshVolumeUsage } from '../../db/scans.js';
import { readDjangoSchema } from '../../db/django-schema.js';
import { neverScanned } from '../../db/values.js';
import type { Discovery } from './discover.js';
import { planBackfill, type BackfillPlan, type BackfillSettings, type DatabaseState } from './plan.js';

/**
 * Carries out a backfill plan in one transaction. The plan is made inside that transaction, after locking
 * xfc_control_user against writers (SHARE ROW EXCLUSIVE: reads go on, Django's `xfc init` and a second backfill
 * wait a moment), so two backfills, or a backfill and Django, can never create the same user twice.
 */

const diskRow = z.object({ id: dbId, mountpoint: z.string(), sizeBytes: z.bigint() });
const userRow = z.object({ id: dbId, name: z.string(), diskId: dbId, cachePath: z.string() });
const idRow = z.object({ id: dbId });

async function readState(tx: DatabaseTransactionConnection): Promise<DatabaseState> {
  const disks = await tx.any(
    sql.type(diskRow)`SELECT id, mountpoint, size_bytes AS "sizeBytes" FROM xfc_control_cachedisk ORDER BY id`,
  );
  const users = await tx.any(sql.type(userRow)`
    SELECT id, name, cache_disk_id AS "diskId", cache_path AS "cachePath" FROM xfc_control_user ORDER BY id`);
  return { disks: [...disks], users: [...users] };
}

export interface BackfillOutcome {
  plan: BackfillPlan;
  /** False for a dry run: the plan is what would be done. */
  written: boolean;
}

export async function runBackfill(
  pool: DatabasePool,
  discovery: Discovery,
  settings: BackfillSettings,
  options: { dryRun: boolean },
): Promise<BackfillOutcome> {
  return pool.transaction(async (tx) => {
    if (options.dryRun) {
      await tx.query(sql.unsafe`SET TRANSACTION READ ONLY`);
    } else {
      await tx.query(sql.unsafe`LOCK TABLE xfc_control_user IN SHARE ROW EXCLUSIVE MODE`);
    }
    const plan = planBackfill(discovery, await readState(tx), settings);
    if (!options.dryRun) await applyPlan(tx, plan, settings);
    return { plan, written: !options.dryRun };
  });
}

async function applyPlan(
  tx: DatabaseTransactionConnection,
  plan: BackfillPlan,
  settings: BackfillSettings,
): Promise<void> {
  const diskIds = new Map<string, DbId>();
  for (const volume of plan.volumes) {
    if (volume.action === 'register' && volume.sizeBytes !== null) {
      // Django inserts give every column; so do we. A row that appeared meanwhile is grown instead.
      const id = await tx.oneFirst(sql.type(idRow)`
        INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
        VALUES (${volume.mountpoint}, ${volume.sizeBytes}, ${volume.allocate}, 0)
        ON CONFLICT (mountpoint) DO UPDATE
          SET allocated_bytes = xfc_control_cachedisk.allocated_bytes + EXCLUDED.allocated_bytes
        RETURNING id`);
      diskIds.set(volume.name, id);
    } else if (volume.action === 'registered' && volume.diskId !== null) {
      diskIds.set(volume.name, volume.diskId);
      if (volume.allocate > 0n) {
        await tx.query(sql.unsafe`
          UPDATE xfc_control_cachedisk SET allocated_bytes = allocated_bytes + ${volume.allocate}
          WHERE id = ${volume.diskId}`);
      }
    }
  }
  // Every column Django's model has, as Django inserts: with `last_scanned` (never: 1900-01-01, the value Django's
  // 0002 gives existing rows) once Django's 0002 has added it, without it on the app's master.
  const { lastScanned } = await readDjangoSchema(tx);
  const column = lastScanned ? sql.fragment`, last_scanned` : sql.fragment``;
  const value = lastScanned ? sql.fragment`, ${neverScanned}::timestamptz` : sql.fragment``;
  for (const user of plan.create) {
    const diskId = diskIds.get(user.volume);
    if (diskId === undefined) throw new Error(`backfill: no cache disk for ${user.volume}`);
    await tx.query(sql.unsafe`
      INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                    cache_path, cache_disk_id ${column})
      VALUES (${user.username}, ${user.email}, ${user.notify}, ${settings.temporalQuota}, 0, ${settings.hardQuota}, 0,
              ${user.cachePath}, ${diskId} ${value})`);
  }
  const touched = new Set(plan.create.map((user) => user.volume));
  for (const volume of touched) {
    const diskId = diskIds.get(volume);
    if (diskId !== undefined) await refreshVolumeUsage(tx, diskId);
  }
}
