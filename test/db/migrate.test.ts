import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type pg from 'pg';
import { migrate, migrationNames, migrationStatus } from '../../db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { djangoMigrate, djangoSchemaListing, loadDjangoDump } from './django.js';
import { loadFixture, runSql, withClient } from './helpers.js';

const ours = ['0001_django-tables', '0002_scan-state'];

async function djangoRows(client: pg.Client): Promise<unknown> {
  const disks = await client.query('SELECT * FROM xfc_control_cachedisk ORDER BY id');
  const users = await client.query('SELECT * FROM xfc_control_user ORDER BY id');
  const migrations = await client.query('SELECT * FROM django_migrations ORDER BY id');
  return { disks: disks.rows, users: users.rows, migrations: migrations.rows };
}

describe('migrate', () => {
  const databases: TestDatabase[] = [];
  const fresh = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };
  after(async () => {
    await Promise.all(databases.map((db) => db.drop()));
  });

  it('knows its migration files, in order', () => {
    assert.deepEqual(migrationNames().slice(0, 2), ours);
  });

  it('creates the Django tables on an empty database exactly as Django did, and is idempotent', async () => {
    const empty = await fresh();
    assert.deepEqual((await migrate(empty.url)).applied.slice(0, 2), ours);
    assert.deepEqual((await migrate(empty.url)).applied, []);
    const status = await migrationStatus(empty.url);
    assert.deepEqual(status.pending, []);
    assert.deepEqual(
      status.applied.map((m) => m.name),
      migrationNames(),
    );

    // Exactly the schema Django left on the app's master (its pg_dump), names included; and what Django's own 0001
    // makes, migrated by xfc afterwards, is the same.
    const dumped = await fresh();
    await loadDjangoDump(dumped.url, 'schema-after-master-0001.sql');
    const built = await withClient(empty.url, djangoSchemaListing);
    assert.deepEqual(built, await withClient(dumped.url, djangoSchemaListing));
    const production = await fresh();
    await loadFixture(production.url);
    await migrate(production.url);
    assert.deepEqual(built, await withClient(production.url, djangoSchemaListing));
    assert.ok(
      built.includes(
        'index xfc_control_user xfc_control_user_cache_disk_id_35210398 ' +
          'CREATE INDEX xfc_control_user_cache_disk_id_35210398 ON public.xfc_control_user USING btree (cache_disk_id)',
      ),
    );

    // No SQL defaults on Django's columns other than the serial ids, and no column of xfc's.
    const defaults = await withClient(empty.url, (client) =>
      client.query<{ table_name: string; column_name: string }>(`
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_name LIKE 'xfc\\_control\\_%' AND column_default IS NOT NULL AND column_name <> 'id'`),
    );
    assert.deepEqual(defaults.rows, []);
    // Django's bookkeeping table is Django's to create.
    const djangoMigrations = await withClient(empty.url, (client) =>
      client.query<{ present: boolean }>(`SELECT to_regclass('django_migrations') IS NOT NULL AS present`),
    );
    assert.equal(djangoMigrations.rows[0]?.present, false);
  });

  it('applies on the production fixture twice, leaving its rows and columns unchanged', async () => {
    const db = await fresh();
    await loadFixture(db.url);
    const before = (await withClient(db.url, djangoRows)) as {
      disks: unknown[];
      users: Array<Record<string, unknown>>;
      migrations: unknown[];
    };
    assert.deepEqual((await migrate(db.url)).applied.slice(0, 2), ours);
    assert.deepEqual((await migrate(db.url)).applied, []);
    const afterwards = (await withClient(db.url, djangoRows)) as typeof before;

    assert.deepEqual(afterwards.disks, before.disks);
    assert.deepEqual(afterwards.migrations, before.migrations);
    assert.equal(afterwards.users.length, 3);
    assert.deepEqual(afterwards.users, before.users);
    const ourTables = await withClient(db.url, (client) =>
      client.query<{ name: string }>(`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name LIKE 'xfc\\_%' AND table_name NOT LIKE 'xfc\\_control\\_%'
        ORDER BY 1`),
    );
    assert.deepEqual(
      ourTables.rows
        .map((row) => row.name)
        .filter((name) => ['xfc_migrations', 'xfc_scan', 'xfc_user_state'].includes(name)),
      ['xfc_migrations', 'xfc_scan', 'xfc_user_state'],
    );
  });

  it('keeps Django-style inserts (all original columns, no others) working afterwards', async () => {
    const db = await fresh();
    await loadFixture(db.url);
    await migrate(db.url);
    await runSql(
      db.url,
      `INSERT INTO "xfc_control_cachedisk" ("mountpoint", "size_bytes", "allocated_bytes", "used_bytes")
         VALUES ('/work/xfc/vol9', 1000, 0, 0);
       INSERT INTO "xfc_control_user" ("name", "email", "notify", "quota_size", "quota_used", "hard_limit_size",
                                       "total_used", "cache_path", "cache_disk_id")
         VALUES ('dave', 'dave@example.org', true, 329853488332800, 0, 43980465111040, 0, 'user_cache/dave', 3);
       INSERT INTO "xfc_control_cachedfile" ("path", "size", "first_seen", "user_id")
         VALUES ('user_cache/dave/a.nc', 10, now(), 4);
       INSERT INTO "xfc_control_userlock" ("user_lock_id") VALUES (4);`,
    );
    const dave = await withClient(db.url, (client) =>
      client.query<{ cache_disk_id: number }>(`SELECT cache_disk_id FROM xfc_control_user WHERE name = 'dave'`),
    );
    assert.deepEqual(dave.rows, [{ cache_disk_id: 3 }]);
  });

  it('runs safely when many processes migrate at once: one applies, the others wait and find nothing to do', async () => {
    const db = await fresh();
    await loadFixture(db.url);
    const results = await Promise.all(Array.from({ length: 8 }, () => migrate(db.url)));
    const appliers = results.filter((result) => result.applied.length > 0);
    assert.equal(appliers.length, 1);
    assert.deepEqual(appliers[0]?.applied, migrationNames());
    const history = await withClient(db.url, (client) =>
      client.query<{ name: string }>('SELECT name FROM xfc_migrations ORDER BY id'),
    );
    assert.deepEqual(
      history.rows.map((row) => row.name),
      migrationNames(),
    );
  });

  it("leaves the last_scanned column that Django's own 0002 added exactly as it is", async () => {
    const db = await fresh();
    await loadFixture(db.url);
    await djangoMigrate(db.url, '0002');
    await runSql(db.url, `UPDATE xfc_control_user SET last_scanned = '2020-05-01 00:00:00+00'`);
    await migrate(db.url);
    const column = await withClient(db.url, (client) =>
      client.query(`SELECT data_type, is_nullable, column_default FROM information_schema.columns
                    WHERE table_name = 'xfc_control_user' AND column_name = 'last_scanned'`),
    );
    assert.deepEqual(column.rows, [{ data_type: 'timestamp with time zone', is_nullable: 'NO', column_default: null }]);
    const scanned = await withClient(db.url, (client) =>
      client.query<{ last_scanned: Date }>('SELECT DISTINCT last_scanned FROM xfc_control_user'),
    );
    assert.deepEqual(scanned.rows, [{ last_scanned: new Date('2020-05-01T00:00:00Z') }]);
  });

  it('recreates a lost user table beside the surviving volumes', async () => {
    const db = await fresh();
    await loadFixture(db.url);
    await runSql(db.url, 'DROP TABLE xfc_control_user CASCADE');
    await migrate(db.url);
    const reference = await fresh();
    await loadFixture(reference.url);
    await migrate(reference.url);
    // Columns and indexes as Django made them (the other tables' foreign keys to the lost table went with it).
    const shape = (lines: string[]): string[] => lines.filter((line) => !line.startsWith('constraint '));
    assert.deepEqual(
      shape(await withClient(db.url, djangoSchemaListing)),
      shape(await withClient(reference.url, djangoSchemaListing)),
    );
    const disks = await withClient(db.url, (client) =>
      client.query('SELECT count(*)::int AS n FROM xfc_control_cachedisk'),
    );
    assert.deepEqual(disks.rows, [{ n: 2 }]);
  });
});
