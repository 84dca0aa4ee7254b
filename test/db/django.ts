import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { withClient } from './helpers.js';

/**
 * The Django app's migrations as `manage.py migrate xfc_control <n>` runs them on PostgreSQL, for tests. The SQL is
 * what Django itself emits (fixtures/django/, copied from the project's shared fixtures: `sqlmigrate` of master's
 * 0001 and of the branch `update-plan-improvements`' 0002–0005), run verbatim, and the migration recorded in
 * django_migrations as Django records it.
 *
 * `sqlmigrate` prints what Django decides without looking at a database; `migrate` also asks the database for the
 * names of the foreign keys on a column it alters, drops them first and, for 0005's change of target, adds the new
 * one. Those few statements are added here (`introspected`), and the result is checked against the schema Django
 * left after a real `migrate` (fixtures/django/schema-after-*.sql, pg_dump output) by the tests.
 */

export type DjangoMigration = '0001' | '0002' | '0003' | '0004' | '0005';

const fixtures = new URL('./fixtures/django/', import.meta.url);

/** The file and the name recorded for each migration. (The branch's names are not published: placeholders.) */
const migrations: Record<DjangoMigration, { file: string; name: string }> = {
  '0001': { file: 'master-0001.sql', name: '0001_initial' },
  '0002': { file: 'branch-0002.sql', name: '0002_user_last_scanned_cacheddirectoryscan' },
  '0003': { file: 'branch-0003.sql', name: '0003_alter_ids_bigautofield' },
  '0004': { file: 'branch-0004.sql', name: '0004_remove_old_models' },
  '0005': { file: 'branch-0005.sql', name: '0005_alter_cacheddirectoryscan_user' },
};

/** The columns whose foreign keys Django finds and drops before the statements of a migration. */
const foreignKeysDroppedBefore: Partial<Record<DjangoMigration, Array<[table: string, column: string]>>> = {
  // Each AlterField of an id to bigint drops the foreign keys pointing at it (it re-adds those of non-m2m fields as
  // `<name>_fk`, which sqlmigrate does print).
  '0003': [
    ['xfc_control_scheduleddeletion_delete_files', 'cachedfile_id'],
    ['xfc_control_user', 'cache_disk_id'],
    ['xfc_control_scheduleddeletion_delete_files', 'scheduleddeletion_id'],
    ['xfc_control_scheduleddeletion', 'user_id'],
    ['xfc_control_userlock', 'user_lock_id'],
    ['xfc_control_cachedfile', 'user_id'],
  ],
  // AlterField of cacheddirectoryscan.user from auth_user to xfc_control_user drops the old foreign key...
  '0005': [['xfc_control_cacheddirectoryscan', 'user_id']],
};

/** ... and adds the new one (its name as in schema-after-branch-0005.sql). */
const statementsAfter: Partial<Record<DjangoMigration, string>> = {
  '0005': `ALTER TABLE "xfc_control_cacheddirectoryscan" ADD CONSTRAINT "xfc_control_cacheddi_user_id_7655a6ce_fk_xfc_contr"
           FOREIGN KEY ("user_id") REFERENCES "xfc_control_user" ("id") DEFERRABLE INITIALLY DEFERRED;`,
};

/** Django's bookkeeping table, created by its first `migrate` (Django 3.2: serial id). */
const djangoMigrationsTable = `CREATE TABLE IF NOT EXISTS "django_migrations" ("id" serial NOT NULL PRIMARY KEY,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" timestamp with time zone NOT NULL)`;

/**
 * The branch's 0002 references `auth_user` (Django's login accounts: the admin's app `django.contrib.auth`, which
 * Django migrates first). Its columns do not matter here; this stands in for it and is not compared.
 */
const authUserTable = `CREATE TABLE IF NOT EXISTS "auth_user" ("id" serial NOT NULL PRIMARY KEY,
  "username" varchar(150) NOT NULL UNIQUE)`;

export function djangoSql(migration: DjangoMigration): string {
  return readFileSync(new URL(migrations[migration].file, fixtures), 'utf8');
}

export interface DjangoMigrateOptions {
  /** `--fake`: record without running. */
  fake?: boolean;
  /** `--fake-initial`: 0001 is recorded without running when its tables and columns all exist. */
  fakeInitial?: boolean;
}

/** `manage.py migrate xfc_control <migration>` for one migration (the earlier ones must be recorded). */
export async function djangoMigrate(
  url: string,
  migration: DjangoMigration,
  options: DjangoMigrateOptions = {},
): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(djangoMigrationsTable);
    await client.query(authUserTable);
    const recorded = await client.query('SELECT 1 FROM django_migrations WHERE app = $1 AND name = $2', [
      'xfc_control',
      migrations[migration].name,
    ]);
    if (recorded.rowCount) throw new Error(`Django's ${migration} is already recorded`);
    const fake = options.fake || (options.fakeInitial && migration === '0001' && (await initialTablesExist(client)));
    if (!fake) {
      await client.query('BEGIN');
      for (const [table, column] of foreignKeysDroppedBefore[migration] ?? []) {
        for (const name of await foreignKeyNames(client, table, column)) {
          await client.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${name}"`);
        }
      }
      await client.query('COMMIT');
      await client.query(djangoSql(migration));
      if (statementsAfter[migration]) await client.query(statementsAfter[migration]);
    }
    await client.query('INSERT INTO django_migrations (app, name, applied) VALUES ($1, $2, now())', [
      'xfc_control',
      migrations[migration].name,
    ]);
  });
}

/** `manage.py migrate xfc_control --fake xfc_control 0001` after 0002 was recorded: un-records the later ones. */
export async function djangoUnrecordAfter(url: string, migration: DjangoMigration): Promise<void> {
  await withClient(url, (client) =>
    client.query(`DELETE FROM django_migrations WHERE app = 'xfc_control' AND name > $1`, [migrations[migration].name]),
  );
}

async function foreignKeyNames(client: pg.Client, table: string, column: string): Promise<string[]> {
  const found = await client.query<{ conname: string }>(
    `SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
     WHERE c.contype = 'f' AND c.conrelid = to_regclass($1) AND a.attname = $2`,
    [table, column],
  );
  return found.rows.map((row) => row.conname);
}

/** What --fake-initial checks for 0001: every table its CreateModels make, and the columns its AddFields add. */
async function initialTablesExist(client: pg.Client): Promise<boolean> {
  const wanted = [
    ['xfc_control_cachedfile', 'user_id'],
    ['xfc_control_cachedisk', 'id'],
    ['xfc_control_scheduleddeletion', 'user_id'],
    ['xfc_control_scheduleddeletion_delete_files', 'id'],
    ['xfc_control_user', 'id'],
    ['xfc_control_userlock', 'id'],
  ];
  for (const [table, column] of wanted) {
    const found = await client.query(
      'SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2',
      [table, column],
    );
    if (!found.rowCount) return false;
  }
  return true;
}

/**
 * Everything Django defines about its tables (xfc_control_*), from pg_catalog, in a stable order: columns (type,
 * NOT NULL, default), constraints (name, definition, deferrable), indexes (name, definition), sequences (type,
 * owner column). Two databases with equal listings have the same Django schema, names included.
 */
export async function djangoSchemaListing(client: pg.ClientBase): Promise<string[]> {
  const lines: string[] = [];
  const columns = await client.query<Record<string, string>>(`
    SELECT c.relname AS t, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
           pg_get_expr(d.adbin, d.adrelid) AS def
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'xfc\\_control\\_%'
    ORDER BY c.relname, a.attnum`);
  for (const row of columns.rows) {
    lines.push(
      `column ${row.t}.${row.col} ${row.type}${row.notnull ? ' NOT NULL' : ''}${row.def ? ` DEFAULT ${row.def}` : ''}`,
    );
  }
  const constraints = await client.query<Record<string, string>>(`
    SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def
    FROM pg_constraint WHERE conrelid::regclass::text LIKE 'xfc\\_control\\_%' ORDER BY 1, 2`);
  for (const row of constraints.rows) lines.push(`constraint ${row.t} ${row.conname} ${row.def}`);
  const indexes = await client.query<Record<string, string>>(`
    SELECT tablename AS t, indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename LIKE 'xfc\\_control\\_%' ORDER BY 1, 2`);
  for (const row of indexes.rows) lines.push(`index ${row.t} ${row.indexname} ${row.indexdef}`);
  const sequences = await client.query<Record<string, string>>(`
    SELECT s.relname AS seq, format_type(q.seqtypid, NULL) AS type, t.relname || '.' || a.attname AS owner
    FROM pg_class s JOIN pg_sequence q ON q.seqrelid = s.oid
    LEFT JOIN pg_depend dep ON dep.objid = s.oid AND dep.deptype = 'a' AND dep.classid = 'pg_class'::regclass
    LEFT JOIN pg_class t ON t.oid = dep.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
    WHERE s.relkind = 'S' AND s.relname LIKE 'xfc\\_control\\_%' ORDER BY 1`);
  for (const row of sequences.rows) lines.push(`sequence ${row.seq} ${row.type} owned by ${row.owner ?? '-'}`);
  return lines;
}

/** Loads pg_dump's output of a schema Django left (fixtures/django/schema-after-*.sql) into the database at `url`. */
export async function loadDjangoDump(
  url: string,
  file: 'schema-after-master-0001.sql' | 'schema-after-branch-0005.sql',
): Promise<void> {
  const text = readFileSync(new URL(file, fixtures), 'utf8')
    .split('\n')
    // psql meta-commands (\restrict) and the owner (the role that ran Django) are not SQL this client runs.
    .filter((line) => !line.startsWith('\\') && !/OWNER TO /.test(line))
    .join('\n');
  await withClient(url, (client) => client.query(text));
}
