import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { TiB } from '../../lib/common/units.js';
import { permanentDatabaseError } from '../../db/permanent-errors.js';
import { recordIssuedScan, usersScannedInTheFuture, verifyScanResult } from '../../db/scan-authority.js';
import { maxBigint, recentScans, recordScanCompleted, recordScanFailed } from '../../db/scans.js';
import { claimStaleUsers } from '../../db/sweep.js';
import { completedScan, insertDisk, insertDjangoUsers, migratedDatabase, type MigratedDatabase } from './helpers.js';

const usageRow = z.object({ quotaUsed: z.bigint(), totalUsed: z.bigint(), lastScanned: z.date().nullable() });
const countRow = z.object({ n: z.number() });

/**
 * Only xfc's own scans change usage (issue 13): a result is applied only if its scan id was issued for that user,
 * with that work directory, and its times are not ahead of the database's clock; figures the columns cannot hold
 * end as one failed scan. Real PostgreSQL.
 */
describe('results carry their authority', () => {
  let t: MigratedDatabase;
  const workDirOf = (name: string): string => `/work/xfc/vol31/user_cache/${name}`;
  before(async () => {
    t = await migratedDatabase();
    const diskId = await insertDisk(t.db.url, '/work/xfc/vol31');
    await insertDjangoUsers(t.db.url, diskId, ['victim', 'forger', 'frozen', 'sparse', 'bystander']);
  });
  after(async () => {
    await t.close();
  });

  // last_scanned is xfc's copy (xfc_user_state): on the app's master Django's column does not exist (issue 14).
  const usage = (name: string): Promise<z.infer<typeof usageRow>> =>
    t.pool.one(sql.type(usageRow)`
      SELECT u.quota_used AS "quotaUsed", u.total_used AS "totalUsed", s.last_scanned AS "lastScanned"
      FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id WHERE u.name = ${name}`);
  const scanRows = (username: string): Promise<number> =>
    t.pool.oneFirst(sql.type(countRow)`SELECT count(*)::int AS n FROM xfc_scan WHERE username = ${username}`);
  const issue = (scanId: string, username: string, workDir = workDirOf(username)): Promise<void> =>
    recordIssuedScan(t.pool, { scanId, username, workDir });
  const result = (username: string, fields: Partial<Parameters<typeof completedScan>[0]> = {}) =>
    completedScan({
      username,
      workDir: workDirOf(username),
      now: new Date(Date.now() - 60_000).toISOString(),
      bytes: 7n * TiB,
      temporalByteDays: 70n * TiB,
      ...fields,
    });

  it('refuses a scan id xfc never issued, and changes nothing', async () => {
    const before = await usage('victim');
    const forged = result('victim', { scanId: 'forged-unknown' });
    const outcome = await recordScanCompleted(t.pool, forged);
    assert.equal(outcome.skipped, 'refused');
    assert.equal(outcome.refusal?.reason, 'unknown-scan');
    assert.deepEqual(await usage('victim'), before);
    assert.equal(await scanRows('victim'), 0);
  });

  it('refuses another user’s scan id', async () => {
    await issue('issued-for-forger', 'forger');
    const forged = result('victim', { scanId: 'issued-for-forger' });
    const outcome = await recordScanCompleted(t.pool, forged);
    assert.equal(outcome.refusal?.reason, 'wrong-user');
    assert.equal(await scanRows('victim'), 0);
    // A failure cannot clear someone else's outstanding request either.
    const failed = await recordScanFailed(t.pool, {
      version: 1,
      scanId: 'issued-for-forger',
      requestId: 'r',
      username: 'victim',
      reason: 'walk-failed',
      message: 'forged',
    });
    assert.equal(failed.refusal?.reason, 'wrong-user');
    assert.equal(await scanRows('victim'), 0);
  });

  it('refuses a result naming another directory than the one xfc resolved', async () => {
    await issue('issued-victim-1', 'victim');
    const forged = result('victim', { scanId: 'issued-victim-1', workDir: workDirOf('forger') });
    const outcome = await recordScanCompleted(t.pool, forged);
    assert.equal(outcome.refusal?.reason, 'work-dir-mismatch');
    assert.equal(await scanRows('victim'), 0);
  });

  it('records a result dated ahead of the database’s clock as one failed scan; last_scanned stays', async () => {
    await issue('issued-victim-2099', 'victim');
    const before = await usage('victim');
    const future = result('victim', { scanId: 'issued-victim-2099', now: '2099-01-01T00:00:00.000Z' });
    const outcome = await recordScanCompleted(t.pool, future);
    assert.equal(outcome.refusal?.reason, 'clock-ahead');
    assert.equal(outcome.usageUpdated, false);
    assert.deepEqual(await usage('victim'), before);
    const [row] = await recentScans(t.pool, 'victim', 1);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.failureReason, 'clock-ahead');
    // A second application of the same result is the same single row.
    assert.equal((await recordScanCompleted(t.pool, future)).skipped, 'already-applied');
    assert.equal(await scanRows('victim'), 1);
  });

  it('applies a real scan afterwards; a now up to the allowed skew ahead is written as the database’s clock', async () => {
    await issue('issued-victim-real', 'victim');
    const real = result('victim', { scanId: 'issued-victim-real', now: new Date(Date.now() + 60_000).toISOString() });
    const outcome = await recordScanCompleted(t.pool, real);
    assert.deepEqual([outcome.applied, outcome.usageUpdated, outcome.refusal], [true, true, undefined]);
    const after = await usage('victim');
    assert.equal(after.totalUsed, 7n * TiB);
    assert.ok(after.lastScanned, 'last_scanned is written');
    assert.ok(after.lastScanned.getTime() <= Date.now() + 1_000, 'last_scanned is never in the future');
  });

  it('unfreezes a user whose last_scanned was already in the future: stale for the sweep, reported, overwritten', async () => {
    await t.pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, last_scanned) SELECT id, '2099-01-01' FROM xfc_control_user WHERE name = 'frozen'
      ON CONFLICT (user_id) DO UPDATE SET last_scanned = EXCLUDED.last_scanned`);
    assert.deepEqual(await usersScannedInTheFuture(t.pool), ['frozen']);
    const claimed = await claimStaleUsers(t.pool, {
      batchSize: 100,
      rescanAfterMs: 3_600_000,
      leaseMs: 3_600_000,
      now: new Date(),
    });
    assert.ok(
      claimed.some((user) => user.username === 'frozen'),
      'the sweep claims a user frozen in the future',
    );
    await issue('issued-frozen', 'frozen');
    const real = result('frozen', { scanId: 'issued-frozen' });
    const outcome = await recordScanCompleted(t.pool, real);
    assert.equal(outcome.usageUpdated, true);
    assert.deepEqual(await usage('frozen'), {
      quotaUsed: 70n * TiB,
      totalUsed: 7n * TiB,
      lastScanned: new Date(real.now),
    });
    assert.deepEqual(await usersScannedInTheFuture(t.pool), []);
  });

  it('ends a figure beyond bigint as one failed scan (out-of-range), usage untouched, other users unaffected', async () => {
    await issue('issued-sparse', 'sparse');
    const before = await usage('sparse');
    const huge = result('sparse', { scanId: 'issued-sparse', bytes: 2n * 2n ** 62n * 2n, temporalByteDays: 1n });
    assert.ok(BigInt(huge.totals.bytes) > maxBigint);
    const outcome = await recordScanCompleted(t.pool, huge);
    assert.deepEqual([outcome.applied, outcome.usageUpdated, outcome.refusal?.reason], [true, false, 'out-of-range']);
    assert.equal((await recordScanCompleted(t.pool, huge)).skipped, 'already-applied');
    assert.deepEqual(await usage('sparse'), before);
    const [row] = await recentScans(t.pool, 'sparse', 5);
    assert.equal(row?.failureReason, 'out-of-range');
    assert.match(row?.failureMessage ?? '', /totals\.bytes = 18446744073709551616 is more than PostgreSQL's bigint/);
    assert.equal(await scanRows('sparse'), 1);

    await issue('issued-bystander', 'bystander');
    const ok = await recordScanCompleted(t.pool, result('bystander', { scanId: 'issued-bystander' }));
    assert.equal(ok.usageUpdated, true);
  });

  it('verifies without writing (as the bridge does before it starts an application)', async () => {
    await issue('issued-verify', 'victim');
    assert.deepEqual(await verifyScanResult(t.pool, { scanId: 'issued-verify', username: 'victim' }), {
      ok: true,
      userId: (await verifyScanResult(t.pool, { scanId: 'issued-verify', username: 'victim' })).userId,
    });
    const unknownUser = await verifyScanResult(t.pool, { scanId: 'issued-verify', username: 'nobody' });
    assert.equal(unknownUser.ok ? 'ok' : unknownUser.reason, 'wrong-user');
  });

  it('classifies data errors as permanent and connection trouble as not', async () => {
    const outOfRange = await t.pool
      .query(
        sql.unsafe`SELECT ${maxBigint.toString()}::numeric + 1 :: bigint AS x, (${'18446744073709551616'}::numeric)::bigint AS y`,
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    assert.equal(permanentDatabaseError(outOfRange)?.sqlstate, '22003');
    const duplicate = await t.pool
      .query(
        sql.unsafe`INSERT INTO xfc_scan_issued (scan_id, user_id, username, work_dir)
                        SELECT 'issued-verify', id, name, '/x' FROM xfc_control_user WHERE name = 'victim'`,
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    assert.equal(permanentDatabaseError(duplicate)?.sqlstate, '23505');
    assert.equal(
      permanentDatabaseError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      undefined,
    );
    assert.equal(permanentDatabaseError(Object.assign(new Error('terminating'), { code: '57P01' })), undefined);
  });
});
