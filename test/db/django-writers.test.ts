import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { withPool } from '../../db/pool.js';
import { checkDjangoCoexistence } from '../../cli/ops/doctor-django.js';
import {
  completedScan,
  migratedDatabase,
  recordOwnScan,
  runSql,
  withClient,
  type MigratedDatabase,
} from './helpers.js';

/**
 * The app writes the same rows: an admin save writes every column of the row it loaded, `xfc_fix_quotas` zeroes
 * usage. xfc must never lose the admin's change, and `xfc doctor` must notice usage changed behind its back.
 */
describe('conflicting writers on Django rows', () => {
  let t: MigratedDatabase;
  before(async () => {
    t = await migratedDatabase({ fixture: true });
  });
  after(async () => {
    await t.close();
  });

  const row = (name: string) =>
    withClient(t.db.url, async (client) => {
      const found = await client.query<{ email: string; quota_size: string; quota_used: string; total_used: string }>(
        `SELECT email, quota_size::text, quota_used::text, total_used::text FROM xfc_control_user WHERE name = $1`,
        [name],
      );
      return found.rows[0];
    });

  it("keeps an admin's concurrent change to email and quota: xfc's apply waits for the admin's save, then writes only its columns", async () => {
    const admin = new pg.Client({ connectionString: t.db.url });
    await admin.connect();
    try {
      // The admin page loaded alice (usage 0), the user edits the email and the quota and saves: Django writes every
      // column it loaded, in a transaction still open while xfc applies a scan.
      const loaded = (await admin.query('SELECT * FROM xfc_control_user WHERE name = $1', ['alice'])).rows[0] as Record<
        string,
        unknown
      >;
      await admin.query('BEGIN');
      await admin.query(
        `UPDATE xfc_control_user SET name = $2, email = $3, notify = $4, quota_size = $5, quota_used = $6,
                hard_limit_size = $7, total_used = $8, cache_path = $9, cache_disk_id = $10 WHERE id = $1`,
        [
          loaded.id,
          loaded.name,
          'alice@new.example.org',
          loaded.notify,
          '999',
          loaded.quota_used,
          loaded.hard_limit_size,
          loaded.total_used,
          loaded.cache_path,
          loaded.cache_disk_id,
        ],
      );
      const applying = recordOwnScan(
        t.pool,
        completedScan({ username: 'alice', now: '2026-12-01T00:00:00Z', bytes: 4242n, temporalByteDays: 8484n }),
      );
      // The apply is waiting on the admin's row lock (not finished before the admin commits).
      const waiting = async (): Promise<boolean> =>
        withClient(t.db.url, async (client) => {
          const found = await client.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return (found.rowCount ?? 0) > 0;
        });
      for (let i = 0; i < 100 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await waiting(), true, 'the apply waits for the admin');
      await admin.query('COMMIT');
      assert.equal((await applying).usageUpdated, true);
      assert.deepEqual(await row('alice'), {
        email: 'alice@new.example.org',
        quota_size: '999',
        quota_used: '8484',
        total_used: '4242',
      });

      // The other way round: xfc's apply committed, then an admin saves a row it loaded before, writing the old
      // usage back with its email change. xfc cannot prevent that; doctor reports it and the next scan mends it.
      assert.equal(
        (await withPool(t.db.url, checkDjangoCoexistence)).find((f) => f.name === 'usage writers')?.status,
        'ok',
      );
      await admin.query(`UPDATE xfc_control_user SET email = 'alice@newer.example.org', quota_used = 0, total_used = 0
                         WHERE name = 'alice'`);
      const findings = await withPool(t.db.url, checkDjangoCoexistence);
      const writers = findings.find((finding) => finding.name === 'usage writers');
      assert.equal(writers?.status, 'warn');
      assert.match(
        writers?.detail ?? '',
        /1 users' quota_used\/total_used differ from their last applied scan \(alice\)/,
      );
      assert.match(writers?.detail ?? '', /volumes' used_bytes differ/);
      assert.match(writers?.fix ?? '', /xfc_fix_quotas/);
      // The next scan puts it right, and keeps the admin's email.
      await recordOwnScan(
        t.pool,
        completedScan({ username: 'alice', now: '2026-12-02T00:00:00Z', bytes: 4242n, temporalByteDays: 8484n }),
      );
      assert.equal((await row('alice'))?.email, 'alice@newer.example.org');
      assert.equal(
        (await withPool(t.db.url, checkDjangoCoexistence)).find((f) => f.name === 'usage writers')?.status,
        'ok',
      );
    } finally {
      await admin.end();
    }
  });

  it("detects the app's xfc_fix_quotas zeroing every user's and volume's usage", async () => {
    await recordOwnScan(
      t.pool,
      completedScan({ username: 'carol', now: '2026-12-03T00:00:00Z', bytes: 10n, temporalByteDays: 20n }),
    );
    // What `runscript xfc_fix_quotas` does with no CachedFile rows.
    await runSql(
      t.db.url,
      'UPDATE xfc_control_user SET quota_used = 0; UPDATE xfc_control_cachedisk SET used_bytes = 0',
    );
    const writers = (await withPool(t.db.url, checkDjangoCoexistence)).find((f) => f.name === 'usage writers');
    assert.equal(writers?.status, 'warn');
    assert.match(writers?.detail ?? '', /2 users' .*\(alice, carol\)/);
  });
});
