-- Up Migration

-- Django's ids may be bigint (the app's migration 0003 makes every id bigint): every column of xfc's own tables
-- (xfc_*, never xfc_control_*) that references xfc_control_user or xfc_control_cachedisk becomes bigint, so it
-- holds any id. Found in the catalogue rather than listed, so that tables of other xfc migrations are included.
-- (integer → bigint rewrites those tables once; their foreign keys stay.)
DO $$
DECLARE
  item record;
BEGIN
  FOR item IN
    SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f'
      AND c.confrelid IN (to_regclass('xfc_control_user'), to_regclass('xfc_control_cachedisk'))
      AND c.conrelid::regclass::text LIKE 'xfc\_%' AND c.conrelid::regclass::text NOT LIKE 'xfc\_control\_%'
      AND a.atttypid = 'integer'::regtype
  LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE bigint', item.tbl, item.col);
  END LOOP;
END
$$;
