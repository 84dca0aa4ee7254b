import { sql, type CommonQueryMethods, type DatabasePool, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { dbId, type DbId } from './ids.js';
import { usernamePattern } from '../lib/common/username.js';
import { clockSkewMs } from './scan-authority.js';
import { timestamptz } from './values.js';

export interface ClaimOptions {
  /** At most this many users per claim. */
  batchSize: number;
  /** Users measured (or failed) more recently than this are left alone. */
  rescanAfterMs: number;
  /** An outstanding request older than this is presumed lost; the user may be claimed again. */
  leaseMs: number;
  /** The sweep's clock (the workflow's time), so a sweep is reproducible. */
  now: Date;
  /**
   * Identifies this sweep (e.g. the workflow run id). A second call with the same claimId returns the users that
   * call claimed, still outstanding, with the same request ids, and claims nothing more: a retried activity whose
   * first attempt committed does not claim a second batch.
   */
  claimId?: string;
}

export interface ClaimedUser {
  userId: DbId;
  username: string;
  /** A fresh uuid: the scan.request's requestId, cleared when the matching result is applied. */
  requestId: string;
  requestedAt: Date;
}

const claimedRow = z.object({
  userId: dbId,
  username: z.string(),
  requestId: z.string(),
  requestedAt: z.date(),
});

/**
 * When a user was last measured or failed, from their state row `alias`; -infinity when never (or no row). A
 * last_scanned beyond `futureAfter` (written by a forged or fast-clocked result before results were checked) would
 * keep the user from ever being due: it counts as never measured.
 */
function staleness(alias: 's' | 'c', futureAfter: Date): FragmentSqlToken {
  const row = sql.identifier([alias]);
  const lastScanned = sql.fragment`(CASE WHEN ${row}.last_scanned > ${timestamptz(futureAfter)} THEN NULL
                                         ELSE ${row}.last_scanned END)`;
  return sql.fragment`COALESCE(GREATEST(${lastScanned}, ${row}.last_failed_at), '-infinity'::timestamptz)`;
}

/**
 * Claims the stalest users for scanning, in one statement: the users with the oldest
 * GREATEST(last_scanned, last_failed_at) (xfc's copy of last_scanned; never measured counts as oldest) that are due
 * and have no live outstanding request get a new request id.
 *
 * Two sweeps never claim the same user. Candidate user rows are locked FOR NO KEY UPDATE SKIP LOCKED, so a concurrent
 * sweep passes over them; and the claim itself is an upsert whose ON CONFLICT ... WHERE re-checks the outstanding
 * request on the newest committed state row (not on the statement's snapshot), so a sweep that read the state just
 * before another sweep committed its claim cannot claim the user a second time. Names that are not valid usernames
 * are never claimed: they could not travel in a scan.request.
 */
export async function claimStaleUsers(pool: DatabasePool, options: ClaimOptions): Promise<ClaimedUser[]> {
  const { claimId } = options;
  if (claimId === undefined) return claim(pool, options, null);
  return pool.transaction(async (tx) => {
    // Serialises calls with the same claimId; the look-up below then sees whatever an earlier call committed.
    await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext('xfc-sweep-claim'), hashtext(${claimId}))`);
    const earlier = await tx.any(sql.type(claimedRow)`
      SELECT u.id AS "userId", u.name AS username, s.outstanding_request_id AS "requestId",
             s.requested_at AS "requestedAt"
      FROM xfc_user_state s
      JOIN xfc_control_user u ON u.id = s.user_id
      WHERE s.claim_id = ${claimId} AND s.outstanding_request_id IS NOT NULL
      ORDER BY ${staleness('s', new Date(options.now.getTime() + clockSkewMs))}, u.id`);
    if (earlier.length > 0) return [...earlier];
    return claim(tx, options, claimId);
  });
}

async function claim(db: CommonQueryMethods, options: ClaimOptions, claimId: string | null): Promise<ClaimedUser[]> {
  const now = options.now.getTime();
  const dueBefore = timestamptz(new Date(now - options.rescanAfterMs));
  const leaseExpiredBefore = timestamptz(new Date(now - options.leaseMs));
  const futureAfter = new Date(now + clockSkewMs);
  const rows = await db.any(sql.type(claimedRow)`
    WITH candidates AS (
      SELECT u.id
      FROM xfc_control_user u
      LEFT JOIN xfc_user_state s ON s.user_id = u.id
      WHERE u.name ~ ${usernamePattern.source}
        AND ${staleness('s', futureAfter)} < ${dueBefore}
        AND (s.outstanding_request_id IS NULL OR s.requested_at IS NULL OR s.requested_at < ${leaseExpiredBefore})
      ORDER BY ${staleness('s', futureAfter)}, u.id
      LIMIT ${options.batchSize}
      FOR NO KEY UPDATE OF u SKIP LOCKED
    ), claimed AS (
      INSERT INTO xfc_user_state AS s (user_id, outstanding_request_id, requested_at, claim_id)
      SELECT id, gen_random_uuid()::text, ${timestamptz(options.now)}, ${claimId} FROM candidates
      ON CONFLICT (user_id) DO UPDATE
        SET outstanding_request_id = EXCLUDED.outstanding_request_id, requested_at = EXCLUDED.requested_at,
            claim_id = EXCLUDED.claim_id
        WHERE (s.outstanding_request_id IS NULL OR s.requested_at IS NULL OR s.requested_at < ${leaseExpiredBefore})
          AND (s.last_failed_at IS NULL OR s.last_failed_at < ${dueBefore})
      RETURNING s.user_id, s.outstanding_request_id, s.requested_at, s.last_scanned, s.last_failed_at
    )
    SELECT u.id AS "userId", u.name AS username, c.outstanding_request_id AS "requestId",
           c.requested_at AS "requestedAt"
    FROM claimed c
    JOIN xfc_control_user u ON u.id = c.user_id
    ORDER BY ${staleness('c', futureAfter)}, u.id
  `);
  return [...rows];
}
