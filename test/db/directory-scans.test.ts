import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { recordScanCompleted } from '../../db/scans.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { djangoMigrate } from './django.js';
import { completedScan, rowsFixturePath, runSql, withClient } from './helpers.js';

/** The app's per-directory history (its branch's xfc_control_cacheddirectoryscan), written by each apply. */
describe('xfc_control_cacheddirectoryscan', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createTestDatabase();
    await djangoMigrate(db.url, '0001');
    await runSql(db.url, readFileSync(rowsFixturePath, 'utf8'));
    for (const step of ['0002', '0003', '0004', '0005'] as const) await djangoMigrate(db.url, step);
    await migrate(db.url);
    pool = await openPool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  const rows = (scanId: string) =>
    withClient(db.url, async (client) => {
      const found = await client.query<Record<string, unknown>>(
        `SELECT dir_name, scan_time, dir_mtime, size_bytes::text, u.name
         FROM xfc_control_cacheddirectoryscan d JOIN xfc_control_user u ON u.id = d.user_id
         WHERE scan_id = $1 ORDER BY dir_name`,
        [scanId],
      );
      return found.rows;
    });

  const entry = (path: string, bytes: string) => ({ path, files: 1, bytes, temporalByteDays: bytes });

  it('writes one row per top directory of the scan (by bytes and by temporal usage, once each), once per scan id', async () => {
    const scan = completedScan({
      username: 'bob',
      now: '2026-12-04T05:06:07.089Z',
      bytes: 60n,
      temporalByteDays: 60n,
      topDirectories: {
        byBytes: [entry('big', '30'), entry('mid', '20')],
        byTemporal: [entry('mid', '20'), entry('.', '10')],
      },
    });
    assert.equal((await recordScanCompleted(pool, scan)).applied, true);
    const at = new Date('2026-12-04T05:06:07.089Z');
    const expected = [
      { dir_name: '.', scan_time: at, dir_mtime: at, size_bytes: '10', name: 'bob' },
      { dir_name: 'big', scan_time: at, dir_mtime: at, size_bytes: '30', name: 'bob' },
      { dir_name: 'mid', scan_time: at, dir_mtime: at, size_bytes: '20', name: 'bob' },
    ];
    assert.deepEqual(await rows(scan.scanId), expected);
    await Promise.all([recordScanCompleted(pool, scan), recordScanCompleted(pool, scan)]);
    assert.deepEqual(await rows(scan.scanId), expected, 'applied again: no more rows');
  });

  it("skips a scan id longer than Django's varchar(64) rather than store it cut; the apply itself goes on", async () => {
    const scan = completedScan({
      username: 'carol',
      now: '2026-12-04T00:00:00Z',
      bytes: 5n,
      temporalByteDays: 5n,
      scanId: `scan-${'z'.repeat(70)}`,
    });
    const outcome = await recordScanCompleted(pool, scan);
    assert.deepEqual([outcome.applied, outcome.usageUpdated], [true, true]);
    assert.deepEqual(await rows(scan.scanId), []);
    assert.deepEqual(await rows(scan.scanId.slice(0, 64)), []);
  });
});
