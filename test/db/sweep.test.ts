import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { claimStaleUsers, type ClaimedUser } from '../../db/sweep.js';
import {
  completedScan,
  insertDisk,
  insertDjangoUsers,
  migratedDatabase,
  type MigratedDatabase,
  recordOwnScan,
  recordOwnFailure,
} from './helpers.js';

const hour = 3_600_000;
const now = new Date('2026-11-10T12:00:00Z');
const options = { batchSize: 10, rescanAfterMs: 20 * hour, leaseMs: 12 * hour, now };

describe('claimStaleUsers', () => {
  let t: MigratedDatabase;
  let diskId: number;
  before(async () => {
    t = await migratedDatabase();
    diskId = await insertDisk(t.db.url, '/work/xfc/vol1');
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.pool.query(sql.unsafe`TRUNCATE xfc_control_user, xfc_scan, xfc_user_state CASCADE`);
  });

  const setLastScanned = async (name: string, at: Date): Promise<void> => {
    await t.pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, last_scanned)
      SELECT id, ${at.toISOString()}::timestamptz FROM xfc_control_user WHERE name = ${name}
      ON CONFLICT (user_id) DO UPDATE SET last_scanned = EXCLUDED.last_scanned`);
  };
  const outstanding = (): Promise<readonly { username: string; requestId: string | null }[]> =>
    t.pool.any(sql.type(z.object({ username: z.string(), requestId: z.string().nullable() }))`
      SELECT u.name AS username, s.outstanding_request_id AS "requestId"
      FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id ORDER BY u.name`);

  it('claims the stalest due users first, each with a new request id, and records the request', async () => {
    await insertDjangoUsers(t.db.url, diskId, ['ann', 'ben', 'cat', 'dan', 'eve']);
    await setLastScanned('ann', new Date('2026-11-01T00:00:00Z'));
    await setLastScanned('ben', new Date('2026-11-10T06:00:00Z')); // 6 h ago: not due
    await setLastScanned('cat', new Date('2026-10-01T00:00:00Z'));
    // dan and eve were never scanned (1900-01-01): stalest of all, by id.
    const claimed = await claimStaleUsers(t.pool, { ...options, batchSize: 3 });
    assert.deepEqual(
      claimed.map((user) => user.username),
      ['dan', 'eve', 'cat'],
    );
    assert.equal(new Set(claimed.map((user) => user.requestId)).size, 3);
    for (const user of claimed) {
      assert.match(user.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.deepEqual(user.requestedAt, now);
    }
    const rows = await outstanding();
    assert.deepEqual(
      rows.map((row) => row.username),
      ['ann', 'ben', 'cat', 'dan', 'eve'],
    );
    assert.deepEqual(
      rows
        .filter((row) => row.requestId !== null)
        .map((row) => row.requestId)
        .sort(),
      claimed.map((user) => user.requestId).sort(),
    );

    // The next sweep takes what is left and due; a third finds nothing.
    assert.deepEqual(
      (await claimStaleUsers(t.pool, options)).map((user) => user.username),
      ['ann'],
    );
    assert.deepEqual(await claimStaleUsers(t.pool, options), []);
  });

  it('claims a user again only when the request lease has expired', async () => {
    await insertDjangoUsers(t.db.url, diskId, ['fay']);
    const [first] = await claimStaleUsers(t.pool, options);
    assert.ok(first);
    const laterButLeased = new Date(now.getTime() + 11 * hour);
    assert.deepEqual(await claimStaleUsers(t.pool, { ...options, now: laterButLeased }), []);
    const afterLease = new Date(now.getTime() + 13 * hour);
    const [second] = await claimStaleUsers(t.pool, { ...options, now: afterLease });
    assert.equal(second?.username, 'fay');
    assert.notEqual(second?.requestId, first.requestId);
    assert.deepEqual(second?.requestedAt, afterLease);
  });

  it('is due again after the result clears the request: not before rescanAfter, after a failure as well', async () => {
    await insertDjangoUsers(t.db.url, diskId, ['gus', 'hal']);
    const claims = await claimStaleUsers(t.pool, options);
    const gus = claims.find((user) => user.username === 'gus')!;
    const hal = claims.find((user) => user.username === 'hal')!;
    await recordOwnScan(
      t.pool,
      completedScan({
        username: 'gus',
        requestId: gus.requestId,
        now: now.toISOString(),
        bytes: 1n,
        temporalByteDays: 1n,
      }),
    );
    await recordOwnFailure(
      t.pool,
      {
        version: 1,
        scanId: 'failed-hal',
        requestId: hal.requestId,
        username: 'hal',
        reason: 'walk-failed',
        message: 'x',
      },
      { failedAt: now },
    );
    assert.deepEqual(
      (await outstanding()).map((row) => row.requestId),
      [null, null],
    );
    const soon = new Date(now.getTime() + 19 * hour);
    assert.deepEqual(await claimStaleUsers(t.pool, { ...options, now: soon }), []);
    const due = new Date(now.getTime() + 21 * hour);
    assert.deepEqual((await claimStaleUsers(t.pool, { ...options, now: due })).map((user) => user.username).sort(), [
      'gus',
      'hal',
    ]);
  });

  it('returns the same batch to a retried claim with the same claimId, even when retries overlap', async () => {
    await insertDjangoUsers(
      t.db.url,
      diskId,
      Array.from({ length: 12 }, (_, index) => `retry${index}`),
    );
    const attempts = await Promise.all(
      Array.from({ length: 4 }, () => claimStaleUsers(t.pool, { ...options, batchSize: 5, claimId: 'run-1' })),
    );
    const [first] = attempts;
    assert.equal(first?.length, 5);
    for (const attempt of attempts) assert.deepEqual(attempt, first);
    const again = await claimStaleUsers(t.pool, { ...options, batchSize: 5, claimId: 'run-1' });
    assert.deepEqual(again, first);

    const other = await claimStaleUsers(t.pool, { ...options, batchSize: 5, claimId: 'run-2' });
    assert.equal(other.length, 5);
    const firstNames = new Set(first?.map((user) => user.username));
    assert.ok(other.every((user) => !firstNames.has(user.username)));
    assert.equal((await outstanding()).filter((row) => row.requestId !== null).length, 10);
  });

  it('never claims a name that could not travel in a scan.request', async () => {
    await insertDjangoUsers(t.db.url, diskId, ['ivy', 'Bad Name', '-dash', 'a'.repeat(33)]);
    assert.deepEqual(
      (await claimStaleUsers(t.pool, options)).map((user) => user.username),
      ['ivy'],
    );
  });

  it('never gives one user to two concurrent sweeps', async () => {
    const names = Array.from({ length: 150 }, (_, index) => `u${String(index).padStart(3, '0')}`);
    await insertDjangoUsers(t.db.url, diskId, names);
    // Half the users have a state row already (scanned before, long ago), half have none: both paths race.
    await t.pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, last_scan_id)
      SELECT id, 'old' FROM xfc_control_user WHERE name ~ '[02468]$'`);
    for (let round = 0; round < 5; round += 1) {
      await t.pool.query(sql.unsafe`UPDATE xfc_user_state SET outstanding_request_id = NULL, requested_at = NULL`);
      await t.pool.query(sql.unsafe`DELETE FROM xfc_user_state WHERE last_scan_id IS NULL`);
      // Twelve sweeps at once, each wanting more than its share, some wanting everyone.
      const sweeps = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          claimStaleUsers(t.pool, { ...options, batchSize: index % 3 === 0 ? 150 : 20 }),
        ),
      );
      const all: ClaimedUser[] = sweeps.flat();
      const usernames = all.map((user) => user.username);
      assert.equal(new Set(usernames).size, usernames.length, `round ${round}: a user was claimed twice`);
      const rows = await outstanding();
      const byName = new Map(rows.map((row) => [row.username, row.requestId]));
      for (const user of all) assert.equal(byName.get(user.username), user.requestId);
      // Whatever was not claimed in the race is still due, and a last sweep picks up exactly that.
      const rest = await claimStaleUsers(t.pool, { ...options, batchSize: 1000 });
      assert.equal(usernames.length + rest.length, names.length);
    }
  });
});
