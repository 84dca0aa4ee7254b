import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { readDjangoSchema } from './django-schema.js';
import { dbId, type DbId } from './ids.js';
import { clockSkewMs } from './scan-authority.js';
import { timestamptz } from './values.js';

/**
 * Moving a user's measured usage forward, in the apply's transaction. xfc writes only the columns it owns on
 * Django's row (`quota_used`, `total_used`, and `last_scanned` once Django's 0002 has added it), each set to the
 * scan's figure in one UPDATE: never a row read, changed and written back, so an admin's concurrent change to the
 * email or the quotas is never lost (it waits on, or is waited for by, the row lock, and both changes stay).
 *
 * "Only if newer" is decided on xfc's own copy of `last_scanned` (xfc_user_state), under the user row's lock, which
 * is taken first as the sweep takes it (user row, then state row), so an apply and a sweep cannot deadlock.
 * `last_scanned` is never written ahead of the database's clock (a scan's `now` may be up to the allowed skew ahead),
 * and one already in the future (written before results were checked) counts as stale, so it cannot freeze a user.
 */

const skew = `${clockSkewMs / 1000} seconds`;

export interface UsageFigures {
  userId: DbId;
  /** The scan's "now". */
  scannedAt: string;
  temporalByteDays: bigint;
  bytes: bigint;
}

const diskIdRow = z.object({ diskId: dbId });
const userIdRow = z.object({ userId: dbId });

/** Returns the user's volume id when the scan was newer and moved the usage, null when it was not newer. */
export async function moveUsageForward(
  tx: DatabaseTransactionConnection,
  figures: UsageFigures,
): Promise<{ diskId: DbId } | null> {
  const { userId } = figures;
  const now = timestamptz(figures.scannedAt);
  const user = await tx.maybeOne(sql.type(diskIdRow)`
    SELECT cache_disk_id AS "diskId" FROM xfc_control_user WHERE id = ${userId} FOR NO KEY UPDATE`);
  if (!user) return null;
  await tx.query(sql.unsafe`INSERT INTO xfc_user_state (user_id) VALUES (${userId}) ON CONFLICT (user_id) DO NOTHING`);
  const newer = await tx.maybeOne(sql.type(userIdRow)`
    UPDATE xfc_user_state SET last_scanned = LEAST(${now}, now())
    WHERE user_id = ${userId}
      AND (last_scanned IS NULL OR last_scanned < ${now} OR last_scanned > now() + ${skew}::interval)
    RETURNING user_id AS "userId"`);
  if (!newer) return null;

  const django = await readDjangoSchema(tx);
  const lastScanned = django.lastScanned
    ? sql.fragment`, last_scanned = CASE WHEN last_scanned > now() + ${skew}::interval THEN LEAST(${now}, now())
                                         ELSE GREATEST(last_scanned, LEAST(${now}, now())) END`
    : sql.fragment``;
  await tx.query(sql.unsafe`
    UPDATE xfc_control_user
    SET quota_used = ${figures.temporalByteDays}, total_used = ${figures.bytes} ${lastScanned}
    WHERE id = ${userId}`);
  return { diskId: user.diskId };
}
