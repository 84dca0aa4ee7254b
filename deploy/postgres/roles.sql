-- Least-privilege PostgreSQL roles for xfc (docs/security.md, "PostgreSQL"). Idempotent. Run it as a superuser in
-- the database that holds Django's xfc_control_* tables, BEFORE the first `xfc db migrate` (roles, schema) and
-- AGAIN AFTER every migration that adds a table (grants on the tables that now exist):
--
--   psql -d xfc -v django_owner=<role that owns xfc_control_user> -f deploy/postgres/roles.sql
--   optional: -v migrator=xfc_migrator -v runtime=xfc_runtime -v bridge=xfc_bridge   (the default names)
--
-- Roles:
--   migrator  `xfc db migrate` only (the migrate job): creates and owns xfc's own tables.
--   runtime   the control worker and the CLI: SELECT/INSERT/UPDATE on exactly the tables xfc uses (UPDATE on Django's
--             tables only of the columns xfc writes); never DELETE, never DDL, nothing on Django's other tables.
--   bridge    `xfc bridge`: SELECT on the issued scans and users' ids and names, nothing else. (The scan worker has
--             no database access.)
-- Passwords are never in this file: `\password xfc_migrator`, `\password xfc_runtime`, `\password xfc_bridge`.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\if :{?migrator}
\else
  \set migrator xfc_migrator
\endif
\if :{?runtime}
\else
  \set runtime xfc_runtime
\endif
\if :{?bridge}
\else
  \set bridge xfc_bridge
\endif

SELECT format('CREATE ROLE %I LOGIN', role)
FROM unnest(ARRAY[:'migrator', :'runtime', :'bridge']) AS role
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), :'migrator', :'runtime') \gexec
GRANT USAGE, CREATE ON SCHEMA public TO :"migrator";
GRANT USAGE ON SCHEMA public TO :"runtime";

-- Migrations 0010 and 0012 may drop the `last_scanned` column an earlier xfc added to Django's xfc_control_user and
-- rename constraints an earlier xfc gave Django's tables, which PostgreSQL allows only to the tables' owner. So on a
-- database where Django created the tables, the migrator must be a member of their owner role. (On a fresh database the migrator
-- creates Django's tables itself and owns them.) Our tables reference xfc_control_user(id): REFERENCES.
\if :{?django_owner}
GRANT :"django_owner" TO :"migrator";
\endif
SELECT format('GRANT REFERENCES (id) ON TABLE xfc_control_user TO %I', :'migrator')
WHERE to_regclass('xfc_control_user') IS NOT NULL \gexec

-- The runtime role: the two Django tables xfc reads and updates, the app's per-directory scan table once its
-- branch made it (xfc inserts rows), and xfc's own tables. Only tables that exist yet: run this file again after
-- migrating. On Django's tables it may UPDATE only the columns it writes (usage and
-- last_scanned; a volume's used and allocated bytes), never a name, an address, a quota or a path; INSERT is for
-- `xfc users backfill`. A table-wide UPDATE granted before is taken back first.
SELECT format('REVOKE UPDATE ON TABLE %I FROM %I', tbl, :'runtime')
FROM unnest(ARRAY['xfc_control_cachedisk', 'xfc_control_user']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL \gexec
SELECT format('GRANT SELECT, INSERT ON TABLE %I TO %I', tbl, :'runtime')
FROM unnest(ARRAY['xfc_control_cachedisk', 'xfc_control_user']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL \gexec
-- last_scanned is Django's column once the app's 0002 added it (on master xfc keeps it in xfc_user_state only).
SELECT format('GRANT UPDATE (quota_used, total_used%s) ON TABLE xfc_control_user TO %I',
              CASE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('xfc_control_user')
                                  AND attname = 'last_scanned' AND NOT attisdropped)
                   THEN ', last_scanned' ELSE '' END,
              :'runtime')
WHERE to_regclass('xfc_control_user') IS NOT NULL \gexec
SELECT format('GRANT UPDATE (used_bytes, allocated_bytes) ON TABLE xfc_control_cachedisk TO %I', :'runtime')
WHERE to_regclass('xfc_control_cachedisk') IS NOT NULL \gexec
SELECT format('GRANT SELECT, INSERT, UPDATE ON TABLE %I TO %I', tbl, :'runtime')
FROM unnest(ARRAY['xfc_scan', 'xfc_user_state', 'xfc_notification', 'xfc_scan_request', 'xfc_sweep_run']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL \gexec
-- Issued scans are written once and never changed.
SELECT format('GRANT SELECT, INSERT ON TABLE xfc_scan_issued TO %I', :'runtime')
WHERE to_regclass('xfc_scan_issued') IS NOT NULL \gexec
-- Per-directory rows of the app's branch: xfc inserts them, once per scan.
SELECT format('GRANT SELECT, INSERT ON TABLE xfc_control_cacheddirectoryscan TO %I', :'runtime')
WHERE to_regclass('xfc_control_cacheddirectoryscan') IS NOT NULL \gexec

-- The bridge role: reads which scans xfc issued (and user ids by name), to dead-letter a result xfc did not issue
-- with the reason before starting anything. Nothing else, and no writes.
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'bridge') \gexec
GRANT USAGE ON SCHEMA public TO :"bridge";
SELECT format('GRANT SELECT ON TABLE xfc_scan_issued TO %I', :'bridge')
WHERE to_regclass('xfc_scan_issued') IS NOT NULL \gexec
SELECT format('GRANT SELECT (id, name) ON TABLE xfc_control_user TO %I', :'bridge')
WHERE to_regclass('xfc_control_user') IS NOT NULL \gexec

SELECT format('GRANT USAGE ON SEQUENCE %s TO %I', pg_get_serial_sequence(tbl, 'id'), :'runtime')
FROM unnest(ARRAY['xfc_control_cachedisk', 'xfc_control_user', 'xfc_notification', 'xfc_control_cacheddirectoryscan']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL AND pg_get_serial_sequence(tbl, 'id') IS NOT NULL \gexec

-- The migration history: every service start-up runs the migrator in "nothing to do" mode, which reads
-- xfc_migrations and looks its primary key up in information_schema.table_constraints. That view shows a table's
-- constraints only to roles with a privilege other than SELECT on it; REFERENCES is the one that changes nothing.
-- (No INSERT/UPDATE: the runtime role cannot mark a migration as applied.)
SELECT format('GRANT SELECT, REFERENCES ON TABLE xfc_migrations TO %I', :'runtime')
WHERE to_regclass('xfc_migrations') IS NOT NULL \gexec
