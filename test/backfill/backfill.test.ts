import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { backfillUsers, type BackfillOptions } from '../../lib/backfill/index.js';
import { UsageError } from '../../lib/common/errors.js';
import { TiB } from '../../lib/common/units.js';
import { migratedDatabase, withClient, type MigratedDatabase } from '../db/helpers.js';
import { makeTree, snapshotTree } from './tree.js';

const userRow = z.object({
  name: z.string(),
  email: z.string(),
  notify: z.boolean(),
  quotaSize: z.bigint(),
  quotaUsed: z.bigint(),
  hardLimitSize: z.bigint(),
  totalUsed: z.bigint(),
  cachePath: z.string(),
  mountpoint: z.string(),
  lastScanned: z.date().nullable(),
});
const diskRow = z.object({
  mountpoint: z.string(),
  sizeBytes: z.bigint(),
  allocatedBytes: z.bigint(),
  usedBytes: z.bigint(),
});

describe('xfc users backfill', () => {
  let t: MigratedDatabase;
  let tree: ReturnType<typeof makeTree>;
  let options: BackfillOptions;
  before(async () => {
    t = await migratedDatabase();
    tree = makeTree();
    options = {
      root: tree.root,
      exclude: ['vol4'],
      temporalQuota: 300n * TiB,
      hardQuota: 40n * TiB,
      emails: new Map([
        ['alice', 'alice@example.org'],
        ['carol', 'carol@example.org'],
      ]),
      notify: true,
      dryRun: false,
    };
    // Already registered, Django-style: vol2 with 100 TiB allocated; erin recorded on vol2 (her directory is on
    // vol3), hank on vol2 with no directory at all.
    await withClient(t.db.url, async (client) => {
      await client.query(
        `INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
         VALUES ($1, 219902325555200, 109951162777600, 5)`,
        [`${tree.root}/vol2`],
      );
      await client.query(
        `INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                       cache_path, cache_disk_id)
         VALUES ('erin', 'erin@example.org', true, 1, 0, 2, 5, 'user_cache/erin', 1),
                ('hank', 'hank@example.org', false, 1, 0, 2, 0, 'user_cache/hank', 1)`,
      );
    });
  });
  after(async () => {
    tree.remove();
    await t.close();
  });

  const users = async (): Promise<Array<z.infer<typeof userRow>>> => [
    ...(await t.pool.any(sql.type(userRow)`
      SELECT u.name, u.email, u.notify, u.quota_size AS "quotaSize", u.quota_used AS "quotaUsed",
             u.hard_limit_size AS "hardLimitSize", u.total_used AS "totalUsed", u.cache_path AS "cachePath",
             d.mountpoint, s.last_scanned AS "lastScanned"
      FROM xfc_control_user u JOIN xfc_control_cachedisk d ON d.id = u.cache_disk_id
      LEFT JOIN xfc_user_state s ON s.user_id = u.id ORDER BY u.name`)),
  ];
  const disks = async (): Promise<Array<z.infer<typeof diskRow>>> => [
    ...(await t.pool.any(sql.type(diskRow)`
      SELECT mountpoint, size_bytes AS "sizeBytes", allocated_bytes AS "allocatedBytes", used_bytes AS "usedBytes"
      FROM xfc_control_cachedisk ORDER BY mountpoint`)),
  ];

  it('writes nothing on a dry run, and says what it would do', async () => {
    const before = { users: await users(), disks: await disks() };
    const report = await backfillUsers(t.pool, { ...options, dryRun: true });
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      report.created.map((user) => user.username),
      ['alice', 'bob', 'carol'],
    );
    assert.deepEqual({ users: await users(), disks: await disks() }, before);
  });

  it('creates the missing users and volumes, skips what is not a user, reports differences and conflicts', async () => {
    const treeBefore = snapshotTree(tree.root);
    const report = await backfillUsers(t.pool, options);
    assert.deepEqual(snapshotTree(tree.root), treeBefore, 'the tree is never modified');

    assert.equal(report.dryRun, false);
    assert.deepEqual(report.created, [
      { username: 'alice', volume: 'vol1', email: 'alice@example.org', notify: true },
      { username: 'bob', volume: 'vol1', email: null, notify: false },
      { username: 'carol', volume: 'vol2', email: 'carol@example.org', notify: true },
    ]);
    assert.deepEqual(report.withoutEmail, ['bob']);
    assert.deepEqual(report.present, [{ username: 'erin', volume: 'vol2' }]);
    assert.deepEqual(
      report.conflicts.map((conflict) => [conflict.username, conflict.volumes]),
      [['dup', ['vol2', 'vol3']]],
    );
    assert.equal(report.failures.length, 1, 'the conflict makes the run fail');
    assert.deepEqual(report.differences, [
      { username: 'erin', message: 'recorded on vol2, but the directory is on vol3' },
      { username: 'hank', message: 'recorded on vol2, but no directory vol2/user_cache/hank was found' },
    ]);
    assert.deepEqual(
      report.skipped.map((entry) => entry.path),
      [
        'vol1/user_cache/-dash',
        'vol1/user_cache/a\\x01b',
        `vol1/user_cache/${'a'.repeat(33)}`,
        'vol1/user_cache/Bad Name',
        'vol1/user_cache/f\\xff',
        'vol1/user_cache/frank',
        'vol1/user_cache/linked',
        'vol1/user_cache/lost+found',
        'vol1/user_cache/UPPER',
      ].sort((a, b) => a.localeCompare(b)),
    );
    const reasons = new Map(report.skipped.map((entry) => [entry.path, entry.reason]));
    assert.equal(reasons.get('vol1/user_cache/linked'), 'a symbolic link (not followed)');
    assert.equal(reasons.get('vol1/user_cache/frank'), 'not a directory (a regular file)');
    assert.equal(reasons.get('vol1/user_cache/f\\xff'), 'name is not valid UTF-8');
    assert.match(reasons.get('vol1/user_cache/Bad Name') ?? '', /spaces/);
    assert.match(reasons.get('vol1/user_cache/-dash') ?? '', /starts with "-"/);
    assert.match(reasons.get('vol1/user_cache/a\\x01b') ?? '', /control characters/);
    assert.deepEqual(report.summary, { found: 5, created: 3, present: 1, skipped: 9, conflicts: 1, differences: 2 });
    assert.deepEqual(
      report.volumes.map((volume) => [volume.name, volume.status, volume.found, volume.created]),
      [
        ['vol1', 'register', 2, 2],
        ['vol2', 'registered', 2, 1],
        ['vol3', 'register', 2, 0],
        ['vol4', 'excluded', 0, 0],
        ['vol5', 'unusable', 0, 0],
      ],
    );
    assert.equal(report.volumes[4]?.problem, 'user_cache: missing');

    const fsSize = (() => {
      const fs = statfsSync(tree.root, { bigint: true });
      return fs.blocks * fs.bsize;
    })();
    assert.deepEqual(await disks(), [
      { mountpoint: `${tree.root}/vol1`, sizeBytes: fsSize, allocatedBytes: 80n * TiB, usedBytes: 0n },
      // registered before: its size is kept, 40 TiB allocated for carol, used_bytes the sum of its users
      { mountpoint: `${tree.root}/vol2`, sizeBytes: 219902325555200n, allocatedBytes: 140n * TiB, usedBytes: 5n },
      { mountpoint: `${tree.root}/vol3`, sizeBytes: fsSize, allocatedBytes: 0n, usedBytes: 0n },
    ]);
    const never = null; // xfc's copy of last_scanned: never measured
    const created = (name: string, email: string, notify: boolean, volume: string): z.infer<typeof userRow> => ({
      name,
      email,
      notify,
      quotaSize: 300n * TiB,
      quotaUsed: 0n,
      hardLimitSize: 40n * TiB,
      totalUsed: 0n,
      cachePath: `user_cache/${name}`,
      mountpoint: `${tree.root}/${volume}`,
      lastScanned: never,
    });
    const rows = await users();
    assert.deepEqual(
      rows.filter((row) => ['alice', 'bob', 'carol'].includes(row.name)),
      [
        created('alice', 'alice@example.org', true, 'vol1'),
        created('bob', '', false, 'vol1'),
        created('carol', 'carol@example.org', true, 'vol2'),
      ],
    );
    assert.deepEqual(
      rows.map((row) => row.name),
      ['alice', 'bob', 'carol', 'erin', 'hank'],
      'existing users untouched, conflicting and excluded ones not created',
    );
    const erin = rows.find((row) => row.name === 'erin');
    assert.equal(erin?.mountpoint, `${tree.root}/vol2`, 'an existing user is never moved');
  });

  it('creates nothing the second time and says so', async () => {
    const before = { users: await users(), disks: await disks() };
    const report = await backfillUsers(t.pool, options);
    assert.deepEqual(report.created, []);
    assert.equal(report.summary.created, 0);
    assert.deepEqual(
      report.present.map((user) => user.username),
      ['alice', 'bob', 'carol', 'erin'],
    );
    assert.deepEqual(
      report.volumes.map((volume) => volume.status),
      ['registered', 'registered', 'registered', 'excluded', 'unusable'],
    );
    assert.deepEqual({ users: await users(), disks: await disks() }, before);
  });

  it('refuses an --exclude that names no volume, before writing anything', async () => {
    await assert.rejects(
      backfillUsers(t.pool, { ...options, exclude: ['vol44'] }),
      (err: Error) => err instanceof UsageError && /--exclude vol44: no such volume/.test(err.message),
    );
  });

  it('creates each user once when backfills race', async () => {
    const race = await migratedDatabase();
    try {
      const reports = await Promise.all(
        Array.from({ length: 4 }, () => backfillUsers(race.pool, { ...options, exclude: [] })),
      );
      const created = reports.flatMap((report) => report.created.map((user) => user.username)).sort();
      // vol4 is included here: gina too; dup stays a conflict.
      assert.deepEqual(created, ['alice', 'bob', 'carol', 'erin', 'gina']);
      const count = await race.pool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM xfc_control_user`,
      );
      assert.equal(count, 5);
      const volumes = await race.pool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM xfc_control_cachedisk`,
      );
      assert.equal(volumes, 4);
    } finally {
      await race.close();
    }
  });
});
