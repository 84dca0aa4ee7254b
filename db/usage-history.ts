import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { HistoryPoint } from '../lib/notify/history-block.js';
import { timestamptz } from './values.js';

const pointRow = z.object({
  scannedAt: z.date(),
  status: z.enum(['complete', 'partial']),
  bytes: z.bigint(),
  temporalByteDays: z.bigint(),
});

/** A user's last `limit` measurements up to and including `upTo` (a scan's "now"), newest first. */
export async function recentUsage(
  db: CommonQueryMethods,
  userId: number | bigint | string,
  upTo: Date,
  limit: number,
): Promise<HistoryPoint[]> {
  const rows = await db.any(sql.type(pointRow)`
    SELECT scan_now AS "scannedAt", status, bytes, temporal_byte_days AS "temporalByteDays"
    FROM xfc_scan
    WHERE user_id = ${String(userId)}::bigint AND status <> 'failed' AND bytes IS NOT NULL
      AND temporal_byte_days IS NOT NULL AND scan_now <= ${timestamptz(upTo)}
    ORDER BY scan_now DESC
    LIMIT ${limit}`);
  return [...rows];
}
