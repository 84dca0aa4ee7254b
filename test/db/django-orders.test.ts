import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { runner } from 'node-pg-migrate';
import { sql } from 'slonik';
import { z } from 'zod';
import { backfillUsers } from '../../lib/backfill/index.js';
import { TiB } from '../../lib/common/units.js';
import { migrate, migrationsTable, releaseLastScanned } from '../../db/migrate.js';
import { openPool, withPool } from '../../db/pool.js';
import { claimStaleUsers } from '../../db/sweep.js';
import { getUser, listUsers } from '../../db/users.js';
import { checkDjangoCoexistence } from '../../cli/ops/doctor-django.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import {
  djangoMigrate,
  djangoSchemaListing,
  djangoUnrecordAfter,
  loadDjangoDump,
  type DjangoMigration,
} from './django.js';
import { completedScan, recordOwnScan, rowsFixturePath, runSql, withClient } from './helpers.js';

/**
 * Every order in which xfc and the Django app (master's 0001, then the branch's 0002–0005) can meet on one
 * database. Django's steps run the SQL Django emits (test/db/django.ts); after each step xfc migrates, backfills a
 * user, sweeps, applies scans and lists users, and the Django tables must be exactly what Django alone makes at that
 * step (pg_catalog listing, names included), with every row's data and xfc's usage and last_scanned kept.
 */

const allSteps: DjangoMigration[] = ['0001', '0002', '0003', '0004', '0005'];
/**
 * Scans are dated a day apart from 60 days ago: a result dated ahead of the database's clock is refused (issue 13),
 * and the file runs 23 rounds of xfc's work plus 4 scans of a live pool.
 */
const dayMs = 86_400_000;
const firstDay = Date.now() - 60 * dayMs;
const oldXfcMigrations = new URL('./fixtures/xfc-before-django-coexistence/', import.meta.url);

describe('living beside the Django app, in every order', () => {
  const databases: TestDatabase[] = [];
  const fresh = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };
  const tree = mkdtempSync(`${tmpdir()}/xfc-django-orders-`);
  after(async () => {
    rmSync(tree, { recursive: true, force: true });
    await Promise.all(databases.map((db) => db.drop()));
  });

  /** What Django alone leaves after these steps (references are built once per step count). */
  const references = new Map<number, Promise<string[]>>();
  const djangoAlone = (steps: number): Promise<string[]> => {
    let found = references.get(steps);
    if (!found) {
      found = (async () => {
        const db = await fresh();
        for (const step of allSteps.slice(0, steps)) await djangoMigrate(db.url, step);
        return withClient(db.url, djangoSchemaListing);
      })();
      references.set(steps, found);
    }
    return found;
  };

  it("checks the harness: Django's emitted SQL, run as migrate runs it, leaves what Django's own pg_dump shows", async () => {
    for (const [steps, dump] of [
      [1, 'schema-after-master-0001.sql'],
      [5, 'schema-after-branch-0005.sql'],
    ] as const) {
      const dumped = await fresh();
      await loadDjangoDump(dumped.url, dump);
      assert.deepEqual(await djangoAlone(steps), await withClient(dumped.url, djangoSchemaListing), dump);
    }
  });

  let round = 0;
  /** One pass of xfc's work: migrate, backfill, sweep, apply, list; checks the schema against Django alone. */
  const xfcWorks = async (db: TestDatabase, djangoSteps: number, label: string): Promise<void> => {
    round += 1;
    await migrate(db.url);
    assert.deepEqual(await withClient(db.url, djangoSchemaListing), await djangoAlone(djangoSteps), `${label}: schema`);
    const pool = await openPool(db.url, { maximumPoolSize: 2 });
    try {
      // A backfill registers a new user from the tree.
      const newcomer = `new${round}`;
      mkdirSync(`${tree}/vol9/user_cache/${newcomer}`, { recursive: true });
      const report = await backfillUsers(pool, {
        root: tree,
        exclude: [],
        temporalQuota: 300n * TiB,
        hardQuota: 40n * TiB,
        emails: new Map([[newcomer, `${newcomer}@example.org`]]),
        notify: true,
        dryRun: false,
      });
      assert.equal(report.failures.length, 0, `${label}: backfill`);
      // A sweep claims users (the never-scanned newcomer first), scans are applied.
      const now = new Date(firstDay + round * dayMs);
      const claimed = await claimStaleUsers(pool, { batchSize: 100, rescanAfterMs: 0, leaseMs: 0, now });
      assert.ok(
        claimed.some((user) => user.username === newcomer),
        `${label}: the newcomer is claimed`,
      );
      for (const username of ['alice', newcomer]) {
        const scan = completedScan({
          username,
          now: now.toISOString(),
          bytes: BigInt(round) * 1000n,
          temporalByteDays: BigInt(round) * 5000n,
          scanId: `${username}-${round}-${'x'.repeat(8)}`,
        });
        const outcome = await recordOwnScan(pool, scan);
        assert.deepEqual([outcome.applied, outcome.usageUpdated], [true, true], `${label}: apply ${username}`);
        assert.equal((await recordOwnScan(pool, scan)).applied, false, `${label}: applied once`);
      }
      const listed = await listUsers(pool);
      const alice = listed.find((user) => user.username === 'alice');
      assert.equal(alice?.lastScanned?.toISOString(), now.toISOString(), `${label}: alice's last scan`);
      assert.equal(alice?.hardUsed, BigInt(round) * 1000n);
      assert.equal((await getUser(pool, newcomer))?.temporalUsed, BigInt(round) * 5000n);
    } finally {
      await pool.end();
    }
    await checkDjangoColumns(db, label);
  };

  /** Django's own columns agree with xfc: last_scanned (where it exists) and per-directory rows (where allowed). */
  const checkDjangoColumns = async (db: TestDatabase, label: string): Promise<void> => {
    await withClient(db.url, async (client) => {
      const has = await client.query<{ last: boolean; dirs: boolean; fk: boolean }>(`
        SELECT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'xfc_control_user' AND column_name = 'last_scanned') AS last,
               to_regclass('xfc_control_cacheddirectoryscan') IS NOT NULL AS dirs,
               EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('xfc_control_cacheddirectoryscan')
                       AND contype = 'f' AND confrelid = 'xfc_control_user'::regclass) AS fk`);
      const { last, dirs, fk } = has.rows[0]!;
      if (last) {
        const behind = await client.query(`
          SELECT u.name FROM xfc_control_user u JOIN xfc_user_state s ON s.user_id = u.id
          WHERE s.last_scanned IS DISTINCT FROM u.last_scanned AND s.last_scanned IS NOT NULL`);
        assert.deepEqual(behind.rows, [], `${label}: Django's last_scanned equals xfc's`);
      }
      if (dirs) {
        const rows = await client.query<{ scan_id: string; n: string }>(`
          SELECT scan_id, count(*) AS n FROM xfc_control_cacheddirectoryscan WHERE scan_id LIKE 'alice-${round}-%'
          GROUP BY scan_id`);
        assert.deepEqual(
          rows.rows.map((row) => Number(row.n)),
          fk ? [1] : [],
          `${label}: per-directory rows only once they reference xfc_control_user`,
        );
      }
    });
  };

  /** Every row of the fixture and the admin's edits are still there; usage is what the last apply wrote. */
  const checkData = async (db: TestDatabase, label: string): Promise<void> => {
    const rows = await withClient(db.url, (client) =>
      client.query<{ name: string; email: string; quota_size: string; cache_path: string }>(
        `SELECT name, email, quota_size::text, cache_path FROM xfc_control_user WHERE name IN ('alice', 'bob', 'carol')
         ORDER BY name`,
      ),
    );
    assert.deepEqual(
      rows.rows,
      [
        { name: 'alice', email: 'alice@example.org', quota_size: '329853488332800', cache_path: 'user_cache/alice' },
        { name: 'bob', email: 'bob@admin.example.org', quota_size: '1000', cache_path: 'user_cache/bob' },
        { name: 'carol', email: 'carol@example.org', quota_size: '329853488332800', cache_path: 'user_cache/carol' },
      ],
      `${label}: data`,
    );
  };

  const loadRows = async (db: TestDatabase): Promise<void> => {
    await runSql(db.url, readFileSync(rowsFixturePath, 'utf8'));
    await runSql(
      db.url,
      `UPDATE xfc_control_user SET email = 'bob@admin.example.org', quota_size = 1000 WHERE name = 'bob'`,
    );
  };

  it('Django master first, then xfc, then the branch 0002–0005 one by one', async () => {
    const db = await fresh();
    await djangoMigrate(db.url, '0001');
    await loadRows(db);
    await xfcWorks(db, 1, 'master + xfc');
    // A worker's pool that stays open while Django migrates (ids turn bigint under it): no restart needed.
    const live = await openPool(db.url, { maximumPoolSize: 1 });
    try {
      for (const [index, step] of allSteps.slice(1).entries()) {
        await djangoMigrate(db.url, step);
        const now = new Date(firstDay + (40 + index) * dayMs).toISOString();
        const scan = completedScan({ username: 'carol', now, bytes: 1n, temporalByteDays: 1n });
        assert.equal((await recordOwnScan(live, scan)).usageUpdated, true, `live pool after ${step}`);
        await xfcWorks(db, index + 2, `after Django ${step}`);
      }
    } finally {
      await live.end();
    }
    await checkData(db, 'end');
  });

  it('xfc first, then Django migrate --fake-initial, then the branch 0002–0005 one by one', async () => {
    const db = await fresh();
    await migrate(db.url);
    await loadRows(db);
    await xfcWorks(db, 1, 'xfc alone');
    await djangoMigrate(db.url, '0001', { fakeInitial: true });
    await xfcWorks(db, 1, 'after --fake-initial');
    for (const [index, step] of allSteps.slice(1).entries()) {
      await djangoMigrate(db.url, step);
      await xfcWorks(db, index + 2, `after Django ${step}`);
    }
    await checkData(db, 'end');
  });

  it('the branch from the start (0001–0005), then xfc', async () => {
    const db = await fresh();
    // The app's existing rows (written by master), then the branch's migrations, then xfc for the first time.
    await djangoMigrate(db.url, '0001');
    await loadRows(db);
    for (const step of allSteps.slice(1)) await djangoMigrate(db.url, step);
    await xfcWorks(db, 5, 'branch + xfc');
    await checkData(db, 'end');
  });

  it('xfc first, then the branch at once (--fake-initial, 0002–0005)', async () => {
    const db = await fresh();
    await migrate(db.url);
    await loadRows(db);
    await xfcWorks(db, 1, 'xfc alone');
    await djangoMigrate(db.url, '0001', { fakeInitial: true });
    for (const step of allSteps.slice(1)) await djangoMigrate(db.url, step);
    await xfcWorks(db, 5, 'after the branch');
    await checkData(db, 'end');
  });

  /** A database an earlier xfc migrated: its own constraint names, its own last_scanned column with values. */
  const earlierXfc = async (db: TestDatabase, djangoFirst: boolean): Promise<void> => {
    if (djangoFirst) await djangoMigrate(db.url, '0001');
    await runner({
      databaseUrl: db.url,
      dir: new URL(oldXfcMigrations).pathname,
      migrationsTable,
      direction: 'up',
      singleTransaction: true,
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await loadRows(db);
    await runSql(db.url, `UPDATE xfc_control_user SET last_scanned = '2026-06-01 00:00:00+00' WHERE name = 'carol'`);
  };

  it('an install of an earlier xfc (its names, its last_scanned) upgrades, and Django 0001–0005 then apply', async () => {
    for (const djangoFirst of [true, false]) {
      const db = await fresh();
      await earlierXfc(db, djangoFirst);
      await migrate(db.url);
      assert.deepEqual(await withClient(db.url, djangoSchemaListing), await djangoAlone(1), 'renamed to Django names');
      const carol = await withClient(db.url, (client) =>
        client.query(`SELECT s.last_scanned FROM xfc_user_state s JOIN xfc_control_user u ON u.id = s.user_id
                      WHERE u.name = 'carol'`),
      );
      assert.deepEqual(carol.rows, [{ last_scanned: new Date('2026-06-01T00:00:00Z') }], 'last_scanned kept');
      if (!djangoFirst) await djangoMigrate(db.url, '0001', { fakeInitial: true });
      for (const [index, step] of allSteps.slice(1).entries()) {
        await djangoMigrate(db.url, step);
        await xfcWorks(db, index + 2, `earlier xfc, after Django ${step}`);
      }
      const carolDjango = await withClient(db.url, (client) =>
        client.query(`SELECT last_scanned FROM xfc_control_user WHERE name = 'carol'`),
      );
      assert.deepEqual(carolDjango.rows, [{ last_scanned: new Date('2026-06-01T00:00:00Z') }], "in Django's column");
      await checkData(db, 'end');
    }
  });

  it("repairs the old README's faked 0002: doctor says so, and the documented steps get through 0003–0005", async () => {
    const db = await fresh();
    await earlierXfc(db, true);
    await djangoMigrate(db.url, '0002', { fake: true }); // the old advice: migrate --fake xfc_control 0002
    await migrate(db.url); // this xfc: the column is Django's now (0002 recorded), so it stays
    const findings = await withPool(db.url, checkDjangoCoexistence);
    const schema = findings.find((finding) => finding.name === 'Django schema');
    assert.equal(schema?.status, 'fail');
    assert.match(schema?.detail ?? '', /0002 was faked/);
    await assert.rejects(djangoMigrate(db.url, '0003'), /xfc_control_cacheddirectoryscan/);

    // README: manage.py migrate --fake xfc_control 0001; xfc db django-prepare; manage.py migrate xfc_control;
    // xfc db migrate.
    await djangoUnrecordAfter(db.url, '0001');
    assert.equal(await releaseLastScanned(db.url), 'released');
    for (const step of allSteps.slice(1)) await djangoMigrate(db.url, step);
    await xfcWorks(db, 5, 'repaired');
    const carol = await withClient(db.url, (client) =>
      client.query(`SELECT last_scanned FROM xfc_control_user WHERE name = 'carol'`),
    );
    assert.deepEqual(carol.rows, [{ last_scanned: new Date('2026-06-01T00:00:00Z') }]);
    assert.equal(
      (await withPool(db.url, checkDjangoCoexistence)).find((finding) => finding.name === 'Django schema')?.status,
      'ok',
    );
    await checkData(db, 'end');
  });

  it('reads ids beyond 2^31 (after Django 0003) everywhere: users, sweep, apply, notifications', async () => {
    const db = await fresh();
    for (const step of allSteps) await djangoMigrate(db.url, step);
    await migrate(db.url);
    await runSql(
      db.url,
      `INSERT INTO xfc_control_cachedisk (id, mountpoint, size_bytes, allocated_bytes, used_bytes)
         VALUES (5000000000, '/work/xfc/vol5', 1000000, 0, 0);
       INSERT INTO xfc_control_user (id, name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                     cache_path, cache_disk_id, last_scanned)
         VALUES (9007199254740993, 'wide', 'wide@example.org', true, 100, 0, 100, 0, 'user_cache/wide', 5000000000,
                 '1900-01-01 00:00:00+00')`,
    );
    const pool = await openPool(db.url, { maximumPoolSize: 2 });
    try {
      const [claimed] = await claimStaleUsers(pool, { batchSize: 5, rescanAfterMs: 0, leaseMs: 0, now: new Date() });
      assert.equal(claimed?.userId, 9007199254740993n, 'not rounded to 2^53');
      const outcome = await recordOwnScan(
        pool,
        completedScan({ username: 'wide', now: '2026-12-01T00:00:00Z', bytes: 7n, temporalByteDays: 9n }),
      );
      assert.equal(outcome.userId, 9007199254740993n);
      const wide = await getUser(pool, 'wide');
      assert.equal(wide?.userId, 9007199254740993n);
      assert.equal(wide?.hardUsed, 7n);
      const volume = await pool.oneFirst(
        sql.type(z.object({ used: z.bigint() }))`SELECT used_bytes AS used FROM xfc_control_cachedisk`,
      );
      assert.equal(volume, 7n);
      const typed = await pool.any(
        sql.type(z.object({ t: z.string() }))`
          SELECT DISTINCT format_type(atttypid, NULL) AS t FROM pg_attribute
          WHERE attname = 'user_id' AND attrelid IN ('xfc_scan'::regclass, 'xfc_user_state'::regclass,
                                                     'xfc_notification'::regclass)`,
      );
      assert.deepEqual(typed, [{ t: 'bigint' }]);
    } finally {
      await pool.end();
    }
  });
});
