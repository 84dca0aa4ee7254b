-- Least-privilege PostgreSQL roles for xfc (docs/security.md, "PostgreSQL"). Idempotent. Run it as a superuser in
-- the database that holds Django's xfc_control_* tables, BEFORE the first `xfc db migrate` (roles, schema) and
-- AGAIN AFTER every migration that adds a table (grants on the tables that now exist):
--
--   psql -d xfc -v django_owner=<role that owns xfc_control_user> -f deploy/postgres/roles.sql
--   optional: -v migrator=xfc_migrator -v runtime=xfc_runtime   (the default names)
--
-- Roles:
--   migrator  `xfc db migrate` only (the migrate job): creates and owns xfc's own tables.
--   runtime   the control worker and the CLI: SELECT/INSERT/UPDATE on exactly the tables xfc uses; never DELETE,
--             never DDL, nothing on Django's other tables. (The bridge and the scan worker have no database access.)
-- Passwords are never in this file: `\password xfc_migrator`, `\password xfc_runtime`.
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

SELECT format('CREATE ROLE %I LOGIN', role)
FROM unnest(ARRAY[:'migrator', :'runtime']) AS role
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), :'migrator', :'runtime') \gexec
GRANT USAGE, CREATE ON SCHEMA public TO :"migrator";
GRANT USAGE ON SCHEMA public TO :"runtime";

-- Migration 0001 adds `last_scanned` to Django's xfc_control_user with ALTER TABLE ... ADD COLUMN IF NOT EXISTS,
-- which PostgreSQL allows only to the table's owner, even when the column already exists. So on a database where
-- Django created the tables, the migrator must be a member of their owner role. (On a fresh database the migrator
-- creates Django's tables itself and owns them.) Our tables reference xfc_control_user(id): REFERENCES.
\if :{?django_owner}
GRANT :"django_owner" TO :"migrator";
\endif
SELECT format('GRANT REFERENCES (id) ON TABLE xfc_control_user TO %I', :'migrator')
WHERE to_regclass('xfc_control_user') IS NOT NULL \gexec

-- The runtime role: the two Django tables xfc reads and updates (usage, quotas, last_scanned; the backfill adds
-- volumes and users) and xfc's own tables. Only tables that exist yet: run this file again after migrating.
SELECT format('GRANT SELECT, INSERT, UPDATE ON TABLE %I TO %I', tbl, :'runtime')
FROM unnest(ARRAY['xfc_control_cachedisk', 'xfc_control_user', 'xfc_scan', 'xfc_user_state', 'xfc_notification', 'xfc_sweep_run']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL \gexec

SELECT format('GRANT USAGE ON SEQUENCE %s TO %I', pg_get_serial_sequence(tbl, 'id'), :'runtime')
FROM unnest(ARRAY['xfc_control_cachedisk', 'xfc_control_user', 'xfc_notification']) AS tbl
WHERE to_regclass(tbl) IS NOT NULL AND pg_get_serial_sequence(tbl, 'id') IS NOT NULL \gexec

-- The migration history: every service start-up runs the migrator in "nothing to do" mode, which reads
-- xfc_migrations and looks its primary key up in information_schema.table_constraints. That view shows a table's
-- constraints only to roles with a privilege other than SELECT on it; REFERENCES is the one that changes nothing.
-- (No INSERT/UPDATE: the runtime role cannot mark a migration as applied.)
SELECT format('GRANT SELECT, REFERENCES ON TABLE xfc_migrations TO %I', :'runtime')
WHERE to_regclass('xfc_migrations') IS NOT NULL \gexec
