import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { recordIssuedScan } from '../../db/scan-authority.js';
import { recordScanCompleted } from '../../db/scans.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { djangoMigrate } from './django.js';
import { completedScan, recordOwnScan, rowsFixturePath, runSql, withClient } from './helpers.js';

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
    assert.equal((await recordOwnScan(pool, scan)).applied, true);
    const at = new Date('2026-12-04T05:06:07.089Z');
    const expected = [
      { dir_name: '.', scan_time: at, dir_mtime: at, size_bytes: '10', name: 'bob' },
      { dir_name: 'big', scan_time: at, dir_mtime: at, size_bytes: '30', name: 'bob' },
      { dir_name: 'mid', scan_time: at, dir_mtime: at, size_bytes: '20', name: 'bob' },
    ];
    assert.deepEqual(await rows(scan.scanId), expected);
    await Promise.all([recordOwnScan(pool, scan), recordOwnScan(pool, scan)]);
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
    const outcome = await recordOwnScan(pool, scan);
    assert.deepEqual([outcome.applied, outcome.usageUpdated], [true, true]);
    assert.deepEqual(await rows(scan.scanId), []);
    assert.deepEqual(await rows(scan.scanId.slice(0, 64)), []);
  });

  it('writes no row for a result it refuses or records as failed (issue 13): the checks come first', async () => {
    const workDir = '/work/xfc/vol5/user_cache/alice';
    const scan = (scanId: string, fields: Partial<Parameters<typeof completedScan>[0]> = {}) =>
      completedScan({
        username: 'alice',
        workDir,
        now: '2026-12-03T00:00:00Z',
        bytes: 9n,
        temporalByteDays: 9n,
        scanId,
        ...fields,
      });
    await recordIssuedScan(pool, { scanId: 'issued-bob', username: 'bob', workDir: '/work/xfc/vol5/user_cache/bob' });
    for (const id of ['issued-alice-dir', 'issued-alice-2099', 'issued-alice-huge']) {
      await recordIssuedScan(pool, { scanId: id, username: 'alice', workDir });
    }
    const cases = [
      { result: scan('never-issued'), reason: 'unknown-scan' },
      { result: scan('issued-bob'), reason: 'wrong-user' },
      { result: scan('issued-alice-dir', { workDir: '/work/xfc/vol5/user_cache/bob' }), reason: 'work-dir-mismatch' },
      { result: scan('issued-alice-2099', { now: '2099-01-01T00:00:00.000Z' }), reason: 'clock-ahead' },
      { result: scan('issued-alice-huge', { bytes: 2n ** 64n }), reason: 'out-of-range' },
    ];
    for (const { result, reason } of cases) {
      const outcome = await recordScanCompleted(pool, result);
      assert.equal(outcome.refusal?.reason, reason, result.scanId);
      assert.equal(outcome.usageUpdated, false, result.scanId);
      assert.deepEqual(await rows(result.scanId), [], `${result.scanId}: no per-directory rows`);
    }
  });
});
