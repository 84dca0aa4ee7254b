-- Up Migration

-- Databases where xfc created Django's tables before 0001 used Django's names carry other constraint and index
-- names. Django drops and alters them by its computed names (with IF EXISTS: a name it does not find leaves a stale
-- index or constraint behind, silently), so they are renamed to exactly Django's. Only xfc's old names are touched;
-- a database whose tables Django made has none of them and nothing changes.
DO $$
DECLARE
  item record;
BEGIN
  FOR item IN
    SELECT * FROM (VALUES
      ('c', 'xfc_control_user', 'xfc_control_user_cache_disk_id_fk_xfc_control_cachedisk_id',
            'xfc_control_user_cache_disk_id_35210398_fk_xfc_contr'),
      ('c', 'xfc_control_cachedfile', 'xfc_control_cachedfile_user_id_fk_xfc_control_user_id',
            'xfc_control_cachedfile_user_id_de888545_fk_xfc_control_user_id'),
      ('c', 'xfc_control_scheduleddeletion', 'xfc_control_scheduleddeletion_user_id_fk_xfc_control_user_id',
            'xfc_control_schedule_user_id_855eead3_fk_xfc_contr'),
      ('c', 'xfc_control_scheduleddeletion_delete_files', 'xfc_control_scheduleddeletion_delete_files_uniq',
            'xfc_control_scheduleddel_scheduleddeletion_id_cac_a9858a4e_uniq'),
      ('c', 'xfc_control_scheduleddeletion_delete_files', 'xfc_control_schedul_scheduleddeletion_id_fk',
            'xfc_control_schedule_scheduleddeletion_id_f390bef3_fk_xfc_contr'),
      ('c', 'xfc_control_scheduleddeletion_delete_files', 'xfc_control_schedul_cachedfile_id_fk',
            'xfc_control_schedule_cachedfile_id_aafda1e6_fk_xfc_contr'),
      ('c', 'xfc_control_userlock', 'xfc_control_userlock_user_lock_id_fk_xfc_control_user_id',
            'xfc_control_userlock_user_lock_id_0b1ec0b8_fk_xfc_contr'),
      ('i', 'xfc_control_cachedisk', 'xfc_control_cachedisk_mountpoint_like',
            'xfc_control_cachedisk_mountpoint_c6ac1ff9_like'),
      ('i', 'xfc_control_user', 'xfc_control_user_cache_disk_id', 'xfc_control_user_cache_disk_id_35210398'),
      ('i', 'xfc_control_cachedfile', 'xfc_control_cachedfile_user_id', 'xfc_control_cachedfile_user_id_de888545'),
      ('i', 'xfc_control_scheduleddeletion', 'xfc_control_scheduleddeletion_user_id',
            'xfc_control_scheduleddeletion_user_id_855eead3'),
      ('i', 'xfc_control_scheduleddeletion_delete_files', 'xfc_control_scheduleddeletion_delete_files_sd_id',
            'xfc_control_scheduleddelet_scheduleddeletion_id_f390bef3'),
      ('i', 'xfc_control_scheduleddeletion_delete_files', 'xfc_control_scheduleddeletion_delete_files_cf_id',
            'xfc_control_scheduleddelet_cachedfile_id_aafda1e6'),
      ('i', 'xfc_control_userlock', 'xfc_control_userlock_user_lock_id', 'xfc_control_userlock_user_lock_id_0b1ec0b8')
    ) AS names (kind, tbl, old_name, new_name)
  LOOP
    IF to_regclass(item.tbl) IS NULL THEN
      CONTINUE;
    END IF;
    IF item.kind = 'c' AND EXISTS (
      SELECT 1 FROM pg_constraint WHERE conrelid = item.tbl::regclass AND conname = item.old_name
    ) THEN
      EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', item.tbl, item.old_name, item.new_name);
    ELSIF item.kind = 'i' AND EXISTS (
      SELECT 1 FROM pg_index WHERE indrelid = item.tbl::regclass AND indexrelid = to_regclass(item.old_name)
    ) THEN
      EXECUTE format('ALTER INDEX %I RENAME TO %I', item.old_name, item.new_name);
    END IF;
  END LOOP;
END
$$;
