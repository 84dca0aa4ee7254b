import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { loadConfig } from '../../lib/config/env.js';
import { recordSweepRun } from '../../db/fleet-health.js';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { checkScanFreshness } from '../../cli/ops/doctor-freshness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { insertUser } from '../support/users.js';

describe('xfc doctor: scan freshness', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  const now = new Date('2026-12-05T12:00:00Z');

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.url);
    pool = await openPool(db.url);
    for (const name of ['alice', 'bob', 'carol']) await insertUser(pool, { name, mountpoint: '/work/xfc/vol1' });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function run(): Promise<Map<string, { status: string; detail: string }>> {
    const checks = new Map<string, { status: string; detail: string }>();
    await checkScanFreshness(
      loadConfig({ XFC_DATABASE_URL: db.url }),
      (name, status, detail) => {
        checks.set(name, { status, detail });
      },
      now,
    );
    return checks;
  }

  /** xfc's own copy of last_scanned (Django's column comes with the app's 0002), of one user or all. */
  async function setLastScanned(at: Date, name?: string): Promise<void> {
    await pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, last_scanned)
      SELECT id, ${at.toISOString()}::timestamptz FROM xfc_control_user WHERE ${name ?? null}::text IS NULL OR name = ${name ?? null}
      ON CONFLICT (user_id) DO UPDATE SET last_scanned = EXCLUDED.last_scanned`);
  }

  it('warns when no sweep ran and nobody was scanned, naming who', async () => {
    const checks = await run();
    assert.equal(checks.get('last sweep')?.status, 'warn');
    assert.match(checks.get('never scanned')?.detail ?? '', /^3 of 3 users: "alice", "bob", "carol"$/);
  });

  it('is ok when the sweep ran minutes ago and everyone was scanned within two days, and warns on a stale one', async () => {
    await recordSweepRun(pool, { at: new Date(now.getTime() - 5 * 60_000), claimId: 'test', claimed: 0 });
    await setLastScanned(new Date(now.getTime() - 3_600_000));
    let checks = await run();
    assert.deepEqual(
      [...checks.values()].map((check) => check.status),
      ['ok', 'ok', 'ok'],
    );
    await setLastScanned(new Date(now.getTime() - 5 * 86_400_000), 'bob');
    checks = await run();
    assert.equal(checks.get('oldest scan')?.status, 'warn');
    assert.match(checks.get('oldest scan')?.detail ?? '', /1 of 3 scanned users not within 2 days/);
  });
});
