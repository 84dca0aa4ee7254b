import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { recentScans } from '../../db/scans.js';
import { findWorkTarget, getUser, listUsers } from '../../db/users.js';
import { TiB } from '../../lib/common/units.js';
import {
  completedScan,
  insertDisk,
  insertDjangoUsers,
  migratedDatabase,
  type MigratedDatabase,
  recordOwnScan,
  recordOwnFailure,
} from './helpers.js';

const usage = z.object({ quotaUsed: z.bigint(), totalUsed: z.bigint(), lastScanned: z.date().nullable() });
const volumeUsage = z.object({ usedBytes: z.bigint(), sumOfUsers: z.bigint() });
const stateRow = z.object({
  outstandingRequestId: z.string().nullable(),
  lastScanId: z.string().nullable(),
  lastScanStatus: z.string().nullable(),
  lastFailedAt: z.date().nullable(),
  lastFailureReason: z.string().nullable(),
});

describe('recording scans', () => {
  let t: MigratedDatabase;
  before(async () => {
    t = await migratedDatabase({ fixture: true });
  });
  after(async () => {
    await t.close();
  });

  const userUsage = (name: string): Promise<z.infer<typeof usage>> =>
    t.pool.one(sql.type(usage)`
      SELECT quota_used AS "quotaUsed", total_used AS "totalUsed", s.last_scanned AS "lastScanned"
      FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id WHERE name = ${name}`);
  const diskUsage = (mountpoint: string): Promise<z.infer<typeof volumeUsage>> =>
    t.pool.one(sql.type(volumeUsage)`
      SELECT d.used_bytes AS "usedBytes",
             (SELECT COALESCE(SUM(total_used), 0)::bigint FROM xfc_control_user WHERE cache_disk_id = d.id) AS "sumOfUsers"
      FROM xfc_control_cachedisk d WHERE mountpoint = ${mountpoint}`);
  const state = (name: string): Promise<z.infer<typeof stateRow>> =>
    t.pool.one(sql.type(stateRow)`
      SELECT outstanding_request_id AS "outstandingRequestId", last_scan_id AS "lastScanId",
             last_scan_status AS "lastScanStatus", last_failed_at AS "lastFailedAt",
             last_failure_reason AS "lastFailureReason"
      FROM xfc_user_state s JOIN xfc_control_user u ON u.id = s.user_id WHERE u.name = ${name}`);
  const scanRows = (scanId: string): Promise<number> =>
    t.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM xfc_scan WHERE scan_id = ${scanId}`,
    );

  it('finds the work directory from the database', async () => {
    assert.deepEqual(await findWorkTarget(t.pool, 'carol'), {
      userId: 3n,
      username: 'carol',
      mountpoint: '/work/xfc/vol7',
      cachePath: 'user_cache/carol',
      workDir: '/work/xfc/vol7/user_cache/carol',
    });
    assert.equal(await findWorkTarget(t.pool, 'nobody'), null);
  });

  it('applies a completed scan: usage, last_scanned, the volume sum, the user state', async () => {
    await t.pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, outstanding_request_id, requested_at) VALUES (1, 'req-alice-1', now())`);
    const message = completedScan({
      username: 'alice',
      requestId: 'req-alice-1',
      now: '2026-11-01T10:00:00.000Z',
      bytes: 5n * TiB,
      temporalByteDays: 2n ** 60n + 7n, // beyond 2^53: must stay exact
    });
    assert.deepEqual(await recordOwnScan(t.pool, message), { applied: true, usageUpdated: true, userId: 1n });
    assert.deepEqual(await userUsage('alice'), {
      quotaUsed: 2n ** 60n + 7n,
      totalUsed: 5n * TiB,
      lastScanned: new Date('2026-11-01T10:00:00Z'),
    });
    assert.deepEqual(await diskUsage('/work/xfc/vol5'), { usedBytes: 5n * TiB, sumOfUsers: 5n * TiB });
    assert.deepEqual(await state('alice'), {
      outstandingRequestId: null,
      lastScanId: message.scanId,
      lastScanStatus: 'complete',
      lastFailedAt: null,
      lastFailureReason: null,
    });
    const [recorded] = await recentScans(t.pool, 'alice', 5);
    assert.equal(recorded?.scanId, message.scanId);
    assert.equal(recorded?.temporalByteDays, 2n ** 60n + 7n);
    assert.equal(recorded?.usageApplied, true);
    assert.deepEqual(recorded?.ageHistogram, message.ageHistogram);
    assert.deepEqual(recorded?.topDirectories, message.topDirectories);

    const alice = await getUser(t.pool, 'alice');
    assert.equal(alice?.hardPercent, 12.5);
    assert.equal(alice?.volume, 'vol5');
    assert.equal(alice?.lastScanStatus, 'complete');
  });

  it('applies the same scan id once, even twenty times at once', async () => {
    const message = completedScan({
      username: 'bob',
      now: '2026-11-02T10:00:00.000Z',
      bytes: 3n * TiB,
      temporalByteDays: 30n * TiB,
    });
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => recordOwnScan(t.pool, message)));
    assert.equal(outcomes.filter((outcome) => outcome.applied).length, 1);
    assert.equal(outcomes.filter((outcome) => outcome.skipped === 'already-applied').length, 19);
    assert.equal(await scanRows(message.scanId), 1);
    assert.deepEqual(await userUsage('bob'), {
      quotaUsed: 30n * TiB,
      totalUsed: 3n * TiB,
      lastScanned: new Date('2026-11-02T10:00:00Z'),
    });
    // alice's 5 TiB + bob's 3 TiB
    assert.deepEqual(await diskUsage('/work/xfc/vol5'), { usedBytes: 8n * TiB, sumOfUsers: 8n * TiB });
  });

  it('never moves usage backwards: an older scan applied late is history only', async () => {
    const newer = completedScan({
      username: 'carol',
      now: '2026-11-05T00:00:00.000Z',
      bytes: 2n * TiB,
      temporalByteDays: 20n * TiB,
    });
    const older = completedScan({
      username: 'carol',
      now: '2026-11-04T00:00:00.000Z',
      bytes: 9n * TiB,
      temporalByteDays: 90n * TiB,
      status: 'partial',
    });
    assert.equal((await recordOwnScan(t.pool, newer)).usageUpdated, true);
    assert.deepEqual(await recordOwnScan(t.pool, older), { applied: true, usageUpdated: false, userId: 3n });
    assert.deepEqual(await userUsage('carol'), {
      quotaUsed: 20n * TiB,
      totalUsed: 2n * TiB,
      lastScanned: new Date('2026-11-05T00:00:00Z'),
    });
    assert.deepEqual(await diskUsage('/work/xfc/vol7'), { usedBytes: 2n * TiB, sumOfUsers: 2n * TiB });
    const carolState = await state('carol');
    assert.equal(carolState.lastScanId, newer.scanId);
    assert.equal(carolState.lastScanStatus, 'complete');
    const history = await recentScans(t.pool, 'carol', 10);
    assert.deepEqual(
      history.map((scan) => [scan.scanId, scan.usageApplied]).sort(),
      [
        [newer.scanId, true],
        [older.scanId, false],
      ].sort(),
    );
  });

  it('answers a repeated apply as the first apply did, so a retried activity still makes the email decision', async () => {
    const diskId = await insertDisk(t.db.url, '/work/xfc/vol19');
    await insertDjangoUsers(t.db.url, diskId, ['retried']);
    const newer = completedScan({
      username: 'retried',
      now: '2026-11-07T00:00:00.000Z',
      bytes: TiB,
      temporalByteDays: TiB,
    });
    const older = completedScan({
      username: 'retried',
      now: '2026-11-06T00:00:00.000Z',
      bytes: TiB,
      temporalByteDays: TiB,
    });
    const first = await recordOwnScan(t.pool, newer);
    assert.equal(first.usageUpdated, true);
    assert.equal((await recordOwnScan(t.pool, older)).usageUpdated, false);
    // The worker that applied `newer` died before Temporal heard of it: the retry finds the row.
    assert.deepEqual(await recordOwnScan(t.pool, newer), {
      applied: false,
      usageUpdated: true,
      userId: first.userId,
      skipped: 'already-applied',
    });
    assert.deepEqual(await recordOwnScan(t.pool, older), {
      applied: false,
      usageUpdated: false,
      userId: first.userId,
      skipped: 'already-applied',
    });
    assert.equal(await scanRows(newer.scanId), 1);
    assert.deepEqual(await diskUsage('/work/xfc/vol19'), { usedBytes: TiB, sumOfUsers: TiB });
  });

  it('keeps the newest figures when scans of one user race in any order', async () => {
    const diskId = await insertDisk(t.db.url, '/work/xfc/vol8');
    await insertDjangoUsers(t.db.url, diskId, ['racer']);
    const scans = Array.from({ length: 30 }, (_, day) =>
      completedScan({
        username: 'racer',
        now: new Date(Date.UTC(2026, 10, 1 + day)).toISOString(),
        bytes: BigInt(day + 1) * TiB,
        temporalByteDays: BigInt(day + 1) * 10n * TiB,
      }),
    );
    const shuffled = [...scans].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((scan) => recordOwnScan(t.pool, scan)));
    assert.deepEqual(await userUsage('racer'), {
      quotaUsed: 300n * TiB,
      totalUsed: 30n * TiB,
      lastScanned: new Date(Date.UTC(2026, 10, 30)),
    });
    assert.deepEqual(await diskUsage('/work/xfc/vol8'), { usedBytes: 30n * TiB, sumOfUsers: 30n * TiB });
    assert.equal((await state('racer')).lastScanId, scans[29]?.scanId);
  });

  it('keeps used_bytes the sum of its users when users on one volume are applied concurrently', async () => {
    const diskId = await insertDisk(t.db.url, '/work/xfc/vol9');
    const names = Array.from({ length: 30 }, (_, index) => `crowd${index}`);
    await insertDjangoUsers(t.db.url, diskId, names);
    for (let round = 1; round <= 3; round += 1) {
      const scans = names.map((username, index) =>
        completedScan({
          username,
          now: new Date(Date.UTC(2026, 10, round, 0, index)).toISOString(),
          bytes: BigInt(index + 1) * BigInt(round) * 1_000_000_007n,
          temporalByteDays: 1n,
        }),
      );
      await Promise.all(scans.map((scan) => recordOwnScan(t.pool, scan)));
      const expected = (BigInt(round) * 1_000_000_007n * 30n * 31n) / 2n;
      assert.deepEqual(await diskUsage('/work/xfc/vol9'), { usedBytes: expected, sumOfUsers: expected });
    }
  });

  it('records a failure: history and last failure, the outstanding request cleared, usage untouched', async () => {
    await t.pool.query(sql.unsafe`
      UPDATE xfc_user_state SET outstanding_request_id = 'req-bob-2', requested_at = now() WHERE user_id = 2`);
    const before = await userUsage('bob');
    const failure = {
      version: 1 as const,
      scanId: 'scan-bob-failed-1',
      requestId: 'req-bob-2',
      username: 'bob',
      reason: 'work-dir-missing' as const,
      message: '/work/xfc/vol5/user_cache/bob does not exist',
    };
    const failedAt = new Date('2026-11-06T12:00:00Z');
    assert.deepEqual(await recordOwnFailure(t.pool, failure, { failedAt }), {
      applied: true,
      usageUpdated: false,
      userId: 2n,
    });
    assert.deepEqual(await recordOwnFailure(t.pool, failure, { failedAt }), {
      applied: false,
      usageUpdated: false,
      userId: 2n,
      skipped: 'already-applied',
    });
    assert.deepEqual(await userUsage('bob'), before);
    const bobState = await state('bob');
    assert.equal(bobState.outstandingRequestId, null);
    assert.deepEqual(bobState.lastFailedAt, failedAt);
    assert.equal(bobState.lastFailureReason, 'work-dir-missing');
    assert.equal(bobState.lastScanStatus, 'complete', 'the last measurement stays what it was');
    const [latest] = await recentScans(t.pool, 'bob', 1);
    assert.equal(latest?.status, 'failed');
    assert.equal(latest?.failureMessage, failure.message);
  });

  it('leaves a newer outstanding request alone when an old result arrives', async () => {
    await t.pool.query(sql.unsafe`
      UPDATE xfc_user_state SET outstanding_request_id = 'req-carol-new', requested_at = now() WHERE user_id = 3`);
    const late = completedScan({
      username: 'carol',
      requestId: 'req-carol-old',
      now: '2026-11-07T00:00:00.000Z',
      bytes: 1n,
      temporalByteDays: 1n,
    });
    await recordOwnScan(t.pool, late);
    assert.equal((await state('carol')).outstandingRequestId, 'req-carol-new');
  });

  it('skips results for users it does not know', async () => {
    const stranger = completedScan({
      username: 'stranger',
      now: '2026-11-01T00:00:00.000Z',
      bytes: 1n,
      temporalByteDays: 1n,
    });
    assert.deepEqual(await recordOwnScan(t.pool, stranger), {
      applied: false,
      usageUpdated: false,
      userId: null,
      skipped: 'unknown-user',
    });
    assert.equal(await scanRows(stranger.scanId), 0);
  });

  it('lists users by volume and over quota', async () => {
    await t.pool.query(sql.unsafe`UPDATE xfc_control_user SET total_used = hard_limit_size WHERE name = 'crowd3'`);
    const vol5 = await listUsers(t.pool, { volume: 'vol5' });
    assert.deepEqual(
      vol5.map((user) => user.username),
      ['alice', 'bob'],
    );
    assert.deepEqual(
      (await listUsers(t.pool, { volume: '/work/xfc/vol7' })).map((user) => user.username),
      ['carol'],
    );
    const over = await listUsers(t.pool, { overQuota: true });
    // alice's 2^60 byte·days are far over 300 TiB·day; crowd3 sits exactly at the hard quota and racer exactly at
    // the temporal quota (300 TiB·day): at 100 % a quota counts as reached.
    assert.deepEqual(
      over.map((user) => user.username),
      ['alice', 'crowd3', 'racer'],
    );
    assert.equal(over[2]?.temporalPercent, 100);
    assert.equal(over[1]?.hardPercent, 100);
    assert.deepEqual(await listUsers(t.pool, { volume: 'vol1' }), []);
    const idleDisk = await insertDisk(t.db.url, '/work/xfc/vol10');
    await insertDjangoUsers(t.db.url, idleDisk, ['idle']);
    const idle = await getUser(t.pool, 'idle');
    assert.equal(idle?.lastScanned, null, 'never scanned (1900-01-01) reads as null');
    assert.equal(idle?.notifyLevel, 'ok');
    assert.equal(await getUser(t.pool, 'nobody'), null);
  });
});
