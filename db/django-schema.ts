import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { clockSkewMs } from './scan-authority.js';

/**
 * Which of the Django app's coming schema changes this database has. The app's master has neither; its branch
 * `update-plan-improvements` adds `xfc_control_user.last_scanned` and `xfc_control_cacheddirectoryscan` in 0002,
 * and only in 0005 points that table's `user_id` at `xfc_control_user` (from 0002 to 0004 it references
 * `auth_user`, Django's login accounts, whose ids are not xfc's). Read at each use, in the caller's transaction, so
 * a running xfc follows Django's migrations without a restart.
 */
export interface DjangoSchema {
  /** Django's 0002 has added `xfc_control_user.last_scanned`: xfc writes it too (never backwards). */
  lastScanned: boolean;
  /** `xfc_control_cacheddirectoryscan` exists and its `user_id` references `xfc_control_user`. */
  directoryScans: boolean;
}

const schemaRow = z.object({ lastScanned: z.boolean(), directoryScans: z.boolean() });

const schemaQuery = sql.type(schemaRow)`
  SELECT
    EXISTS (SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass('xfc_control_user') AND attname = 'last_scanned' AND NOT attisdropped)
      AS "lastScanned",
    EXISTS (SELECT 1 FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.conrelid = to_regclass('xfc_control_cacheddirectoryscan') AND c.contype = 'f'
              AND a.attname = 'user_id' AND c.confrelid = to_regclass('xfc_control_user'))
      AS "directoryScans"`;

export async function readDjangoSchema(db: CommonQueryMethods): Promise<DjangoSchema> {
  return db.one(schemaQuery);
}

/**
 * After Django's 0002 added `last_scanned` (every row 1900-01-01), copies xfc's own values in, never moving one
 * backwards. Run by `xfc db migrate` and at every start-up (after the migrations); each apply also writes its user.
 * A value of xfc's in the future (written before results were checked, issue 13) is not copied: it counts as stale,
 * and Django's column is never written ahead of the database's clock; that user's next scan writes both.
 * Returns how many users it moved forward (0 while Django's column is absent).
 */
export async function syncDjangoLastScanned(db: CommonQueryMethods): Promise<number> {
  if (!(await readDjangoSchema(db)).lastScanned) return 0;
  const moved = await db.query(sql.unsafe`
    UPDATE xfc_control_user u SET last_scanned = s.last_scanned
    FROM xfc_user_state s
    WHERE s.user_id = u.id AND s.last_scanned > u.last_scanned
      AND s.last_scanned <= now() + ${`${clockSkewMs / 1000} seconds`}::interval`);
  return moved.rowCount;
}
