import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from './ids.js';

/**
 * Which results may change usage (docs/design.md §5): only those of scans xfc itself issued. The scan workflow records
 * each scan id with its user and the work directory it resolved from the database (`recordIssuedScan`), before
 * any walk; a result is then checked against that row (`verifyScanResult`) by the bridge before it starts an
 * application, and again inside the transaction that applies it, so nothing can slip in between the two.
 */

/** How far a result's times may be ahead of the database's clock (clocks of different hosts differ a little). */
export const clockSkewMs = 5 * 60_000;

export type ResultRefusal = 'unknown-scan' | 'wrong-user' | 'work-dir-mismatch' | 'clock-ahead';

export type ResultVerdict =
  { ok: true; userId: DbId } | { ok: false; reason: ResultRefusal; detail: string; userId: DbId | null };

/** The fields of scan.completed / scan.failed that carry authority (a failure has no directory or times). */
export interface ResultClaims {
  scanId: string;
  username: string;
  workDir?: string;
  now?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Records that scan `scanId` of `username` walks `workDir`; a second call for the same scan id changes nothing. */
export async function recordIssuedScan(
  pool: DatabasePool,
  scan: { scanId: string; username: string; workDir: string },
): Promise<void> {
  await pool.query(sql.unsafe`
    INSERT INTO xfc_scan_issued (scan_id, user_id, username, work_dir)
    SELECT ${scan.scanId}, id, name, ${scan.workDir}
    FROM xfc_control_user WHERE name = ${scan.username} ORDER BY id LIMIT 1
    ON CONFLICT (scan_id) DO NOTHING
  `);
}

const issuedRow = z.object({
  issuedUserId: dbId.nullable(),
  workDir: z.string().nullable(),
  claimedUserId: dbId.nullable(),
  databaseNow: z.date(),
});

/** Checks a result's scan id, user, work directory and times against what xfc issued and the database's clock. */
export async function verifyScanResult(db: CommonQueryMethods, claims: ResultClaims): Promise<ResultVerdict> {
  const row = await db.one(sql.type(issuedRow)`
    SELECT i.user_id AS "issuedUserId", i.work_dir AS "workDir",
           (SELECT id FROM xfc_control_user WHERE name = ${claims.username} ORDER BY id LIMIT 1) AS "claimedUserId",
           now() AS "databaseNow"
    FROM (SELECT 1) AS one
    LEFT JOIN xfc_scan_issued i ON i.scan_id = ${claims.scanId}
  `);
  const userId = row.claimedUserId;
  if (row.issuedUserId === null) {
    return refuse('unknown-scan', `xfc issued no scan ${claims.scanId}`, userId);
  }
  if (userId === null || row.issuedUserId !== userId) {
    return refuse('wrong-user', `scan ${claims.scanId} was issued for another user, not ${claims.username}`, userId);
  }
  if (claims.workDir !== undefined && claims.workDir !== row.workDir) {
    return refuse(
      'work-dir-mismatch',
      `scan ${claims.scanId} was issued for ${row.workDir ?? '?'}, the result names another directory`,
      userId,
    );
  }
  const latest = row.databaseNow.getTime() + clockSkewMs;
  for (const field of ['now', 'startedAt', 'finishedAt'] as const) {
    const value = claims[field];
    if (value !== undefined && Date.parse(value) > latest) {
      return refuse(
        'clock-ahead',
        `${field} ${value} is ahead of the database's clock (${row.databaseNow.toISOString()}) by more than ` +
          `${clockSkewMs / 60_000} minutes: a clock of the scan worker or Temporal server runs fast`,
        userId,
      );
    }
  }
  return { ok: true, userId };
}

function refuse(reason: ResultRefusal, detail: string, userId: DbId | null): ResultVerdict {
  return { ok: false, reason, detail, userId };
}

/** Users whose last_scanned lies in the future (written before results were checked): `xfc doctor` reports them. */
export async function usersScannedInTheFuture(pool: DatabasePool): Promise<string[]> {
  const rows = await pool.anyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT u.name FROM xfc_user_state s JOIN xfc_control_user u ON u.id = s.user_id
    WHERE s.last_scanned > now() + ${`${clockSkewMs / 1000} seconds`}::interval
    ORDER BY u.name LIMIT 20
  `);
  return [...rows];
}
