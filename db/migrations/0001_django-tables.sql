-- Up Migration

-- The tables of django-xfc_control (migration xfc_control 0001_initial), created ONLY where they are absent, exactly
-- as Django 1.11 creates them on PostgreSQL (see ../shared/fixtures/django-xfc_control-0001.sql): same names, types,
-- NOT NULL, constraint and index names, and no SQL defaults (Django keeps defaults in Python). On a database where
-- Django already made them nothing here changes them. All six tables are created, not only the two xfc uses, so
-- that on a fresh database Django's `manage.py migrate --fake-initial` recognises 0001_initial as applied.
-- Django's own bookkeeping table, django_migrations, is left to Django.

DO $$
BEGIN
  IF to_regclass('xfc_control_cachedisk') IS NULL THEN
    CREATE TABLE "xfc_control_cachedisk" (
        "id" serial NOT NULL PRIMARY KEY,
        "mountpoint" varchar(1024) NOT NULL UNIQUE,
        "size_bytes" bigint NOT NULL,
        "allocated_bytes" bigint NOT NULL,
        "used_bytes" bigint NOT NULL
    );
    CREATE INDEX "xfc_control_cachedisk_mountpoint_like" ON "xfc_control_cachedisk" ("mountpoint" varchar_pattern_ops);
  END IF;

  IF to_regclass('xfc_control_user') IS NULL THEN
    CREATE TABLE "xfc_control_user" (
        "id" serial NOT NULL PRIMARY KEY,
        "name" varchar(254) NOT NULL,
        "email" varchar(254) NOT NULL,
        "notify" boolean NOT NULL,
        "quota_size" bigint NOT NULL,
        "quota_used" bigint NOT NULL,
        "hard_limit_size" bigint NOT NULL,
        "total_used" bigint NOT NULL,
        "cache_path" varchar(2024) NOT NULL,
        "cache_disk_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_user"
        ADD CONSTRAINT "xfc_control_user_cache_disk_id_fk_xfc_control_cachedisk_id" FOREIGN KEY ("cache_disk_id")
        REFERENCES "xfc_control_cachedisk" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_user_cache_disk_id" ON "xfc_control_user" ("cache_disk_id");
  END IF;

  IF to_regclass('xfc_control_cachedfile') IS NULL THEN
    CREATE TABLE "xfc_control_cachedfile" (
        "id" serial NOT NULL PRIMARY KEY,
        "path" varchar(2024) NOT NULL,
        "size" bigint NOT NULL,
        "first_seen" timestamp with time zone NULL,
        "user_id" integer NULL
    );
    ALTER TABLE "xfc_control_cachedfile"
        ADD CONSTRAINT "xfc_control_cachedfile_user_id_fk_xfc_control_user_id" FOREIGN KEY ("user_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_cachedfile_user_id" ON "xfc_control_cachedfile" ("user_id");
  END IF;

  IF to_regclass('xfc_control_scheduleddeletion') IS NULL THEN
    CREATE TABLE "xfc_control_scheduleddeletion" (
        "id" serial NOT NULL PRIMARY KEY,
        "time_entered" timestamp with time zone NULL,
        "time_delete" timestamp with time zone NULL,
        "user_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_scheduleddeletion"
        ADD CONSTRAINT "xfc_control_scheduleddeletion_user_id_fk_xfc_control_user_id" FOREIGN KEY ("user_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_scheduleddeletion_user_id" ON "xfc_control_scheduleddeletion" ("user_id");
  END IF;

  IF to_regclass('xfc_control_scheduleddeletion_delete_files') IS NULL THEN
    CREATE TABLE "xfc_control_scheduleddeletion_delete_files" (
        "id" serial NOT NULL PRIMARY KEY,
        "scheduleddeletion_id" integer NOT NULL,
        "cachedfile_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_scheduleddeletion_delete_files_uniq"
        UNIQUE ("scheduleddeletion_id", "cachedfile_id");
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_schedul_scheduleddeletion_id_fk" FOREIGN KEY ("scheduleddeletion_id")
        REFERENCES "xfc_control_scheduleddeletion" ("id") DEFERRABLE INITIALLY DEFERRED;
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_schedul_cachedfile_id_fk" FOREIGN KEY ("cachedfile_id")
        REFERENCES "xfc_control_cachedfile" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_scheduleddeletion_delete_files_sd_id"
        ON "xfc_control_scheduleddeletion_delete_files" ("scheduleddeletion_id");
    CREATE INDEX "xfc_control_scheduleddeletion_delete_files_cf_id"
        ON "xfc_control_scheduleddeletion_delete_files" ("cachedfile_id");
  END IF;

  IF to_regclass('xfc_control_userlock') IS NULL THEN
    CREATE TABLE "xfc_control_userlock" (
        "id" serial NOT NULL PRIMARY KEY,
        "user_lock_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_userlock"
        ADD CONSTRAINT "xfc_control_userlock_user_lock_id_fk_xfc_control_user_id" FOREIGN KEY ("user_lock_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_userlock_user_lock_id" ON "xfc_control_userlock" ("user_lock_id");
  END IF;
END
$$;

-- The plan's column: when the user's work directory was last measured (the scan's "now"). It has an SQL default,
-- unlike Django's columns, so inserts by Django code that predates the column keep working. Where Django's own
-- migration 0002 already added it, it is left exactly as it is. (Checked in the catalogue rather than with ADD COLUMN
-- IF NOT EXISTS, which needs ownership of Django's table even when the column exists: so a migrator role that does
-- not own Django's tables can still run our migrations on a database where the column is present.)
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_attribute
    WHERE attrelid = 'xfc_control_user'::regclass AND attname = 'last_scanned' AND NOT attisdropped
  ) THEN
    ALTER TABLE "xfc_control_user"
        ADD COLUMN "last_scanned" timestamp with time zone NOT NULL DEFAULT '1900-01-01 00:00:00+00';
  END IF;
END
$$;
