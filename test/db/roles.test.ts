import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrate } from '../../db/migrate.js';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { insertDisk, insertDjangoUsers } from './helpers.js';

const rolesSql = fileURLToPath(new URL('../../deploy/postgres/roles.sql', import.meta.url));

/** deploy/postgres/roles.sql on a real PostgreSQL: the runtime role updates only the columns xfc writes. */
describe('deploy/postgres/roles.sql', () => {
  let db: TestDatabase;
  const suffix = randomBytes(4).toString('hex');
  const roles = {
    migrator: `xfc_migrator_${suffix}`,
    runtime: `xfc_runtime_${suffix}`,
    bridge: `xfc_bridge_${suffix}`,
  };

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.url);
    await insertDjangoUsers(db.url, await insertDisk(db.url, '/work/xfc/vol1'), ['alice']);
    const psql = (): string =>
      execFileSync(
        'psql',
        ['-X', '-q', '-d', db.url, ...Object.entries(roles).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', rolesSql],
        { encoding: 'utf8' },
      );
    psql();
    psql(); // idempotent
  });

  after(async () => {
    await db?.drop();
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    for (const role of Object.values(roles)) await client.query(`DROP ROLE IF EXISTS "${role}"`);
    await client.end();
  });

  async function as<T>(role: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
    const url = new URL(db.url);
    url.username = role;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }
  const denied = (promise: Promise<unknown>): Promise<void> =>
    assert.rejects(promise, (err: { code?: string }) => err.code === '42501');

  it('lets the runtime role write usage and last_scanned, never a name, an address, a quota or a path', async () => {
    await as(roles.runtime, async (client) => {
      await client.query(`UPDATE xfc_control_user SET total_used = 1, quota_used = 2 WHERE name = 'alice'`);
      // On the app's master, last_scanned is xfc's own copy (Django's column comes with the app's 0002).
      await client.query(`INSERT INTO xfc_user_state (user_id, last_scanned)
                          SELECT id, now() FROM xfc_control_user WHERE name = 'alice'
                          ON CONFLICT (user_id) DO UPDATE SET last_scanned = EXCLUDED.last_scanned`);
      await client.query(`UPDATE xfc_control_cachedisk SET used_bytes = 1`);
      await client.query(`SELECT id FROM xfc_control_user WHERE name = 'alice' FOR NO KEY UPDATE`);
      await denied(client.query(`UPDATE xfc_control_user SET name = 'mallory'`));
      await denied(client.query(`UPDATE xfc_control_user SET email = 'x@example.org'`));
      await denied(client.query(`UPDATE xfc_control_user SET hard_limit_size = 0`));
      await denied(client.query(`UPDATE xfc_control_user SET cache_path = '/etc'`));
      await denied(client.query(`UPDATE xfc_control_cachedisk SET mountpoint = '/'`));
      await denied(client.query(`DELETE FROM xfc_scan`));
      await client.query(`INSERT INTO xfc_scan_issued (scan_id, user_id, username, work_dir)
                          SELECT 's1', id, name, '/w' FROM xfc_control_user WHERE name = 'alice'`);
      await denied(client.query(`UPDATE xfc_scan_issued SET work_dir = '/elsewhere'`));
    });
  });

  it('lets the bridge role read issued scans and user ids, nothing more', async () => {
    await as(roles.bridge, async (client) => {
      const { rows } = await client.query(
        `SELECT i.scan_id FROM xfc_scan_issued i JOIN xfc_control_user u ON u.id = i.user_id WHERE u.name = 'alice'`,
      );
      assert.equal(rows.length, 1);
      await denied(client.query(`SELECT email FROM xfc_control_user`));
      await denied(
        client.query(`INSERT INTO xfc_scan_issued (scan_id, user_id, username, work_dir) VALUES ('x', 1, 'a', '/')`),
      );
      await denied(client.query(`SELECT * FROM xfc_scan`));
    });
  });
});
