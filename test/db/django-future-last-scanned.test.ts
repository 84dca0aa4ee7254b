import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool, withPool } from '../../db/pool.js';
import { checkDjangoCoexistence } from '../../cli/ops/doctor-django.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { djangoMigrate } from './django.js';
import { completedScan, recordOwnScan, rowsFixturePath, runSql, withClient } from './helpers.js';

/**
 * Issue 13's rule on issue 14's two copies of last_scanned (xfc's in xfc_user_state, Django's once its 0002 added
 * it): a value in the future counts as stale and is never copied into Django's column ahead of the database's
 * clock; the user's next real scan writes both copies with the scan's time.
 */
describe("a future last_scanned beside Django's column", () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createTestDatabase();
    await djangoMigrate(db.url, '0001');
    await runSql(db.url, readFileSync(rowsFixturePath, 'utf8'));
    await migrate(db.url);
    pool = await openPool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  const copies = (name: string) =>
    withClient(db.url, async (client) => {
      const found = await client.query<{ xfc: Date | null; django: Date }>(
        `SELECT s.last_scanned AS xfc, u.last_scanned AS django
         FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id WHERE u.name = $1`,
        [name],
      );
      return found.rows[0];
    });

  it("is not copied into Django's new column, is not reported as Django behind, and the next scan mends both", async () => {
    // Frozen on the master by a result applied before results were checked (as migration 0010 keeps it).
    await runSql(
      db.url,
      `INSERT INTO xfc_user_state (user_id, last_scanned)
       SELECT id, '2099-01-01 00:00:00+00' FROM xfc_control_user WHERE name = 'carol'`,
    );
    for (const step of ['0002', '0003', '0004', '0005'] as const) await djangoMigrate(db.url, step);
    await migrate(db.url); // copies xfc's values into Django's column (1900-01-01 after Django's 0002)
    assert.deepEqual(await copies('carol'), {
      xfc: new Date('2099-01-01T00:00:00Z'),
      django: new Date('1900-01-01T00:00:00Z'),
    });
    const schema = (await withPool(db.url, checkDjangoCoexistence)).find((f) => f.name === 'Django schema');
    assert.equal(schema?.status, 'ok', schema?.detail);

    const now = new Date(Date.now() - 60_000).toISOString();
    const outcome = await recordOwnScan(
      pool,
      completedScan({ username: 'carol', now, bytes: 3n, temporalByteDays: 4n }),
    );
    assert.equal(outcome.usageUpdated, true);
    assert.deepEqual(await copies('carol'), { xfc: new Date(now), django: new Date(now) });
  });

  it("overwrites a future value in Django's own column (e.g. an admin's edit) with the next scan's time", async () => {
    await runSql(db.url, `UPDATE xfc_control_user SET last_scanned = '2099-01-01 00:00:00+00' WHERE name = 'bob'`);
    const now = new Date(Date.now() - 60_000).toISOString();
    const outcome = await recordOwnScan(pool, completedScan({ username: 'bob', now, bytes: 3n, temporalByteDays: 4n }));
    assert.equal(outcome.usageUpdated, true);
    assert.deepEqual(await copies('bob'), { xfc: new Date(now), django: new Date(now) });
  });
});
