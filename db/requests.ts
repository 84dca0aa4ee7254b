import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

export type RequestAcceptance = { accepted: true } | { accepted: false; scanId: string; acceptedAt: Date };

const acceptedRow = z.object({ scanId: z.string(), acceptedAt: z.date() });

/**
 * Takes on a scan request for the scan `scanId`, once: the first call records it; a later call for the same request
 * id with the same scan id (a retried activity) is accepted again; with another scan id (the request delivered a
 * second time) it is refused, naming the scan that served it.
 */
export async function acceptScanRequest(
  pool: DatabasePool,
  request: { requestId: string; username: string; scanId: string },
): Promise<RequestAcceptance> {
  const attempt = sql.type(acceptedRow)`
    WITH inserted AS (
      INSERT INTO xfc_scan_request (request_id, username, scan_id)
      VALUES (${request.requestId}, ${request.username}, ${request.scanId})
      ON CONFLICT (request_id) DO NOTHING
      RETURNING scan_id, accepted_at
    )
    SELECT scan_id AS "scanId", accepted_at AS "acceptedAt" FROM inserted
    UNION ALL
    SELECT scan_id, accepted_at FROM xfc_scan_request WHERE request_id = ${request.requestId}
    LIMIT 1
  `;
  // Under a concurrent insert of the same id, the statement's snapshot may miss the row the other one committed:
  // the second query (a new snapshot) sees it.
  const row =
    (await pool.maybeOne(attempt)) ??
    (await pool.one(sql.type(acceptedRow)`
      SELECT scan_id AS "scanId", accepted_at AS "acceptedAt" FROM xfc_scan_request WHERE request_id = ${request.requestId}
    `));
  return row.scanId === request.scanId ? { accepted: true } : { accepted: false, ...row };
}
