import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { clockSkewMs } from '../../db/scan-authority.js';

/**
 * `xfc doctor`'s checks of living beside the Django app: where the app's schema is (master, or its branch's
 * migrations 0002–0005, including a 0002 that was faked) and whether anything else wrote the usage xfc measured
 * (the app's `xfc_fix_quotas` zeroes it, its branch's `xfc_process_scan` recomputes `quota_used`, an admin save of
 * a row loaded before an apply writes the old figures back).
 */

export interface DjangoFinding {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** At most this many user names in a line. */
const shown = 5;

function names(rows: ReadonlyArray<{ name: string }>): string {
  const listed = rows.slice(0, shown).map((row) => row.name);
  return rows.length > shown ? `${listed.join(', ')} and ${rows.length - shown} more` : listed.join(', ');
}

export async function checkDjangoCoexistence(db: CommonQueryMethods): Promise<DjangoFinding[]> {
  return [await checkDjangoSchema(db), ...(await checkUsageWriters(db))];
}

const schemaState = z.object({
  lastScanned: z.boolean(),
  directoryTable: z.boolean(),
  directoryFk: z.boolean(),
  bookkeeping: z.boolean(),
});

async function checkDjangoSchema(db: CommonQueryMethods): Promise<DjangoFinding> {
  const state = await db.maybeOne(sql.type(schemaState)`
      SELECT
        EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('xfc_control_user')
                AND attname = 'last_scanned' AND NOT attisdropped) AS "lastScanned",
        to_regclass('xfc_control_cacheddirectoryscan') IS NOT NULL AS "directoryTable",
        EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                WHERE c.conrelid = to_regclass('xfc_control_cacheddirectoryscan') AND c.contype = 'f'
                  AND a.attname = 'user_id' AND c.confrelid = to_regclass('xfc_control_user')) AS "directoryFk",
        to_regclass('django_migrations') IS NOT NULL AS bookkeeping`);
  if (!state) return { name: 'Django schema', status: 'warn', detail: 'could not read the schema' };
  const recorded = state.bookkeeping
    ? await db.maybeOneFirst(
        sql.type(z.object({ name: z.string().nullable() }))`
          SELECT max(name) AS name FROM django_migrations WHERE app = 'xfc_control'`,
      )
    : null;
  const latest = recorded ? `xfc_control ${recorded}` : 'no Django migration recorded';
  const number = Number.parseInt(recorded ?? '0', 10);
  if (number >= 2 && !state.directoryTable) {
    return {
      name: 'Django schema',
      status: 'fail',
      detail: `Django records ${latest} but xfc_control_cacheddirectoryscan is missing: its 0002 was faked, so its 0003 will fail`,
      fix: '`manage.py migrate --fake xfc_control 0001`, then `xfc db django-prepare`, then `manage.py migrate xfc_control` and `xfc db migrate` (README: Living beside the Django app)',
    };
  }
  if (number < 2 && state.lastScanned) {
    return {
      name: 'Django schema',
      status: 'fail',
      detail: `xfc_control_user.last_scanned exists but Django's 0002 is not recorded: Django's 0002 will fail on it`,
      fix: '`xfc db django-prepare` keeps its values in xfc_user_state and drops the column, then `manage.py migrate xfc_control`',
    };
  }
  if (number < 2) {
    return {
      name: 'Django schema',
      status: 'ok',
      detail: `the app's master (${latest}): xfc keeps last_scanned itself`,
    };
  }
  const behind = state.lastScanned
    ? Number(
        await db.oneFirst(sql.type(z.object({ n: z.bigint() }))`
          SELECT count(*) AS n FROM xfc_control_user u JOIN xfc_user_state s ON s.user_id = u.id
          WHERE s.last_scanned > u.last_scanned AND s.last_scanned <= now() + ${`${clockSkewMs / 1000} seconds`}::interval`),
      )
    : 0;
  if (behind > 0) {
    return {
      name: 'Django schema',
      status: 'warn',
      detail: `${behind} users' last_scanned in Django's column is older than xfc's (Django's 0002 set it to 1900-01-01)`,
      fix: "`xfc db migrate` copies xfc's values in (each user's next apply does too)",
    };
  }
  return {
    name: 'Django schema',
    status: 'ok',
    detail: state.directoryFk
      ? `the app's branch (${latest}): last_scanned in step, per-directory scan rows written`
      : `the app's branch (${latest}): last_scanned in step; no per-directory rows until Django's 0005 (user_id references auth_user)`,
  };
}

/** Users whose usage is not what their last applied scan wrote, and volumes whose used_bytes is not their sum. */
const nameRow = z.object({ name: z.string() });

async function checkUsageWriters(db: CommonQueryMethods): Promise<DjangoFinding[]> {
  const users = await db.any(sql.type(nameRow)`
    SELECT u.name
    FROM xfc_control_user u
    JOIN LATERAL (
      SELECT temporal_byte_days, bytes FROM xfc_scan
      WHERE user_id = u.id AND usage_applied AND status <> 'failed'
      ORDER BY scan_now DESC NULLS LAST, applied_at DESC LIMIT 1
    ) last ON true
    WHERE u.quota_used IS DISTINCT FROM last.temporal_byte_days OR u.total_used IS DISTINCT FROM last.bytes
    ORDER BY u.name, u.id`);
  const disks = await db.any(sql.type(nameRow)`
    SELECT d.mountpoint AS name FROM xfc_control_cachedisk d
    WHERE d.used_bytes <> (SELECT COALESCE(sum(total_used), 0) FROM xfc_control_user WHERE cache_disk_id = d.id)
    ORDER BY d.mountpoint`);
  if (users.length === 0 && disks.length === 0) {
    return [
      { name: 'usage writers', status: 'ok', detail: 'usage is what xfc last applied, for every user and volume' },
    ];
  }
  const parts = [
    users.length > 0
      ? `${users.length} users' quota_used/total_used differ from their last applied scan (${names(users)})`
      : '',
    disks.length > 0 ? `${disks.length} volumes' used_bytes differ from their users' sum (${names(disks)})` : '',
  ].filter(Boolean);
  return [
    {
      name: 'usage writers',
      status: 'warn',
      detail: `${parts.join('; ')}: something else wrote usage since xfc's last apply`,
      fix: "keep the app's `runscript xfc_fix_quotas` and `xfc_process_scan` (and its old scanner) off; an admin save can also write back figures it loaded earlier. The next scan of each user corrects them (`xfc workflow start scan --user NAME` now)",
    },
  ];
}
