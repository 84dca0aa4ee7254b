-- Up Migration

-- Who owns `last_scanned`: Django. The app's master has no such field; its coming migration 0002 adds the column
-- (timestamptz NOT NULL, no default) and fails if the column already exists. So xfc never adds it. xfc keeps its
-- own copy, xfc_user_state.last_scanned (NULL: never measured), which is what xfc reads; once Django's column
-- exists xfc also writes it, never backwards (each apply, and `xfc db migrate` copies xfc's values in after
-- Django's 0002 set every row to 1900-01-01).
ALTER TABLE xfc_user_state ADD COLUMN IF NOT EXISTS last_scanned timestamptz;

-- Earlier xfc versions added `last_scanned` to xfc_control_user themselves (with an SQL default). This keeps every
-- value in xfc's copy and, where the column is xfc's (Django's 0002 is not recorded in django_migrations), drops it
-- so that Django's 0002 can add its own. Where Django's 0002 is recorded the column is Django's and stays.
-- Returns what it did: 'absent', 'kept-django' or 'released'. `xfc db django-prepare` calls it again (after an
-- operator un-records a faked 0002 with `manage.py migrate --fake xfc_control 0001`).
CREATE OR REPLACE FUNCTION xfc_release_last_scanned() RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  django_owns boolean := false;
BEGIN
  IF to_regclass('xfc_control_user') IS NULL OR NOT EXISTS (
    SELECT 1 FROM pg_attribute
    WHERE attrelid = 'xfc_control_user'::regclass AND attname = 'last_scanned' AND NOT attisdropped
  ) THEN
    RETURN 'absent';
  END IF;

  -- Dynamic SQL: the column (and django_migrations) may be absent when this function is planned.
  EXECUTE $q$
    INSERT INTO xfc_user_state AS s (user_id, last_scanned)
    SELECT id, last_scanned FROM xfc_control_user WHERE last_scanned >= '1901-01-01 00:00:00+00'
    ON CONFLICT (user_id) DO UPDATE
      SET last_scanned = GREATEST(s.last_scanned, EXCLUDED.last_scanned)
  $q$;

  IF to_regclass('django_migrations') IS NOT NULL THEN
    EXECUTE $q$SELECT EXISTS (SELECT 1 FROM django_migrations WHERE app = 'xfc_control' AND name LIKE '0002\_%')$q$
      INTO django_owns;
  END IF;
  IF django_owns THEN
    RETURN 'kept-django';
  END IF;
  ALTER TABLE xfc_control_user DROP COLUMN last_scanned;
  RETURN 'released';
END
$fn$;

SELECT xfc_release_last_scanned();
