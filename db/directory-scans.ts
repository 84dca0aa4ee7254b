import { sql, type DatabaseTransactionConnection } from 'slonik';
import type { ScanCompleted } from '../lib/messages/v1/index.js';
import { readDjangoSchema } from './django-schema.js';
import type { DbId } from './ids.js';
import { timestamptz } from './values.js';

/**
 * The Django app's per-directory scan history, `xfc_control_cacheddirectoryscan` (its branch's 0002), which its
 * admin shows: one row per top-level directory of the user's work directory per scan, written in the apply's
 * transaction right after the scan's own row, so at most once per scan id (and a scan id already present is left
 * alone). Nothing is written while the table is absent, or while its `user_id` still references `auth_user`
 * (Django's 0002 to 0004: xfc's user ids are not login ids there).
 *
 * What a scan.completed carries: its top directories by bytes and by temporal usage (up to 20 each; "." is the
 * files directly in the work directory), so those are the rows: every top-level directory of a user with at most 20,
 * the largest ones otherwise. It carries no directory mtime, so `dir_mtime` (NOT NULL) gets the scan's time, the
 * moment the directory was last seen; the walker would have to report each top directory's mtime for more.
 */

/** Django's column: varchar(64). A longer scan id could only be stored cut, which would break "once per scan". */
const maxScanIdLength = 64;

export async function recordDirectoryScans(
  tx: DatabaseTransactionConnection,
  userId: DbId,
  message: ScanCompleted,
): Promise<number> {
  if (message.scanId.length > maxScanIdLength) return 0;
  if (!(await readDjangoSchema(tx)).directoryScans) return 0;
  const sizes = new Map<string, string>();
  for (const entry of [...message.topDirectories.byBytes, ...message.topDirectories.byTemporal]) {
    sizes.set(entry.path, entry.bytes);
  }
  if (sizes.size === 0) return 0;
  const scannedAt = timestamptz(message.now);
  const result = await tx.query(sql.unsafe`
    INSERT INTO xfc_control_cacheddirectoryscan (dir_name, scan_time, dir_mtime, size_bytes, scan_id, user_id)
    SELECT d.dir_name, ${scannedAt}, ${scannedAt}, d.size_bytes, ${message.scanId}, ${userId}
    FROM unnest(${sql.array([...sizes.keys()], 'text')}::text[], ${sql.array([...sizes.values()], 'int8')}::bigint[])
         AS d (dir_name, size_bytes)
    WHERE NOT EXISTS (SELECT 1 FROM xfc_control_cacheddirectoryscan WHERE scan_id = ${message.scanId})`);
  return result.rowCount;
}
