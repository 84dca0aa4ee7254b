-- Up Migration

-- The tables of django-xfc_control (its master's migration xfc_control 0001_initial), created ONLY where they are
-- absent, exactly as Django creates them on PostgreSQL (test/db/fixtures/django/master-0001.sql is what
-- `manage.py sqlmigrate xfc_control 0001` prints): same names, types, NOT NULL, constraint and index names with
-- Django's hashes (Django later drops and alters them by those computed names), and no SQL defaults (Django keeps
-- defaults in Python). On a database where Django already made them nothing here changes them. On an empty database
-- all six tables are created, not only the two xfc uses, so that Django's `manage.py migrate --fake-initial`
-- recognises 0001_initial as applied. Django's own bookkeeping table, django_migrations, is left to Django. (Databases this migration made
-- before it used Django's names get them from 0012_django-constraint-names.)

DO $$
DECLARE
  -- The app's other four tables are made only on a database without Django's tables (xfc first): the app's
  -- branch deletes those models (its 0004), and a database it migrated must not get them back.
  fresh boolean := to_regclass('xfc_control_user') IS NULL AND to_regclass('xfc_control_cachedisk') IS NULL;
BEGIN
  IF to_regclass('xfc_control_cachedisk') IS NULL THEN
    CREATE TABLE "xfc_control_cachedisk" (
        "id" serial NOT NULL PRIMARY KEY,
        "mountpoint" varchar(1024) NOT NULL UNIQUE,
        "size_bytes" bigint NOT NULL,
        "allocated_bytes" bigint NOT NULL,
        "used_bytes" bigint NOT NULL
    );
    CREATE INDEX "xfc_control_cachedisk_mountpoint_c6ac1ff9_like" ON "xfc_control_cachedisk" ("mountpoint" varchar_pattern_ops);
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
        ADD CONSTRAINT "xfc_control_user_cache_disk_id_35210398_fk_xfc_contr" FOREIGN KEY ("cache_disk_id")
        REFERENCES "xfc_control_cachedisk" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_user_cache_disk_id_35210398" ON "xfc_control_user" ("cache_disk_id");
  END IF;

  IF fresh AND to_regclass('xfc_control_cachedfile') IS NULL THEN
    CREATE TABLE "xfc_control_cachedfile" (
        "id" serial NOT NULL PRIMARY KEY,
        "path" varchar(2024) NOT NULL,
        "size" bigint NOT NULL,
        "first_seen" timestamp with time zone NULL,
        "user_id" integer NULL
    );
    ALTER TABLE "xfc_control_cachedfile"
        ADD CONSTRAINT "xfc_control_cachedfile_user_id_de888545_fk_xfc_control_user_id" FOREIGN KEY ("user_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_cachedfile_user_id_de888545" ON "xfc_control_cachedfile" ("user_id");
  END IF;

  IF fresh AND to_regclass('xfc_control_scheduleddeletion') IS NULL THEN
    CREATE TABLE "xfc_control_scheduleddeletion" (
        "id" serial NOT NULL PRIMARY KEY,
        "time_entered" timestamp with time zone NULL,
        "time_delete" timestamp with time zone NULL,
        "user_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_scheduleddeletion"
        ADD CONSTRAINT "xfc_control_schedule_user_id_855eead3_fk_xfc_contr" FOREIGN KEY ("user_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_scheduleddeletion_user_id_855eead3" ON "xfc_control_scheduleddeletion" ("user_id");
  END IF;

  IF fresh AND to_regclass('xfc_control_scheduleddeletion_delete_files') IS NULL THEN
    CREATE TABLE "xfc_control_scheduleddeletion_delete_files" (
        "id" serial NOT NULL PRIMARY KEY,
        "scheduleddeletion_id" integer NOT NULL,
        "cachedfile_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_scheduleddel_scheduleddeletion_id_cac_a9858a4e_uniq"
        UNIQUE ("scheduleddeletion_id", "cachedfile_id");
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_schedule_scheduleddeletion_id_f390bef3_fk_xfc_contr" FOREIGN KEY ("scheduleddeletion_id")
        REFERENCES "xfc_control_scheduleddeletion" ("id") DEFERRABLE INITIALLY DEFERRED;
    ALTER TABLE "xfc_control_scheduleddeletion_delete_files"
        ADD CONSTRAINT "xfc_control_schedule_cachedfile_id_aafda1e6_fk_xfc_contr" FOREIGN KEY ("cachedfile_id")
        REFERENCES "xfc_control_cachedfile" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_scheduleddelet_scheduleddeletion_id_f390bef3"
        ON "xfc_control_scheduleddeletion_delete_files" ("scheduleddeletion_id");
    CREATE INDEX "xfc_control_scheduleddelet_cachedfile_id_aafda1e6"
        ON "xfc_control_scheduleddeletion_delete_files" ("cachedfile_id");
  END IF;

  IF fresh AND to_regclass('xfc_control_userlock') IS NULL THEN
    CREATE TABLE "xfc_control_userlock" (
        "id" serial NOT NULL PRIMARY KEY,
        "user_lock_id" integer NOT NULL
    );
    ALTER TABLE "xfc_control_userlock"
        ADD CONSTRAINT "xfc_control_userlock_user_lock_id_0b1ec0b8_fk_xfc_contr" FOREIGN KEY ("user_lock_id")
        REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX "xfc_control_userlock_user_lock_id_0b1ec0b8" ON "xfc_control_userlock" ("user_lock_id");
  END IF;
END
$$;

-- xfc adds no column to Django's tables: `last_scanned` is Django's (its migration 0002 adds it); xfc keeps its
-- own copy in xfc_user_state (0010_last-scanned-own-copy).
