import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrationNames } from '../../db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const run = promisify(execFile);

async function xfc(databaseUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { ...process.env, XFC_DATABASE_URL: databaseUrl },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('xfc db', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('status lists pending migrations; migrate applies them once; status then shows them applied', async () => {
    const pending = await xfc(db.url, 'db', 'status');
    assert.equal(pending.code, 3, `pending migrations exit 3: ${pending.stderr}`);
    assert.match(pending.stdout, /^0001_django-tables +pending$/m);
    // Run from the sources, the hint is the clone's command line.
    assert.match(pending.stdout, new RegExp(`${migrationNames().length} pending: run \`npm run xfc -- db migrate\``));
    const pendingJson = await xfc(db.url, 'db', 'status', '--json');
    assert.equal(pendingJson.code, 3);

    const first = await xfc(db.url, 'db', 'migrate');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied to postgres:\/\/.*:\n {2}0001_django-tables\n {2}0002_scan-state/);
    const second = await xfc(db.url, 'db', 'migrate', '--json');
    assert.deepEqual(JSON.parse(second.stdout), { applied: [] });

    const upToDate = await xfc(db.url, 'db', 'status', '--json');
    assert.equal(upToDate.code, 0, upToDate.stderr);
    const status = JSON.parse(upToDate.stdout) as {
      applied: Array<{ name: string }>;
      pending: string[];
    };
    assert.deepEqual(
      status.applied.map((migration) => migration.name),
      migrationNames(),
    );
    assert.deepEqual(status.pending, []);
  });

  it("django-prepare keeps an earlier xfc's last_scanned in xfc_user_state and drops its column, once", async () => {
    await xfc(db.url, 'db', 'migrate');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`
        INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes) VALUES ('/v', 1, 0, 0);
        INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                      cache_path, cache_disk_id)
          SELECT 'ann', '', false, 1, 0, 1, 0, 'user_cache/ann', id FROM xfc_control_cachedisk`);
      // As an earlier xfc added it.
      await client.query(`
        ALTER TABLE xfc_control_user ADD COLUMN last_scanned timestamptz NOT NULL DEFAULT '2026-03-04 00:00:00+00'`);
      const prepared = await xfc(db.url, 'db', 'django-prepare');
      assert.equal(prepared.code, 0, prepared.stderr);
      assert.match(prepared.stdout, /dropped xfc's column: now run `manage\.py migrate xfc_control`/);
      const kept = await client.query('SELECT last_scanned FROM xfc_user_state');
      assert.deepEqual(kept.rows, [{ last_scanned: new Date('2026-03-04T00:00:00Z') }]);
      const again = await xfc(db.url, 'db', 'django-prepare');
      assert.match(again.stdout, /^Nothing to do/);
    } finally {
      await client.end();
    }
  });

  it('says when the database does not exist', async () => {
    const url = new URL(db.url);
    url.pathname = '/xfc_test_no_such_database';
    const result = await xfc(url.toString(), 'db', 'migrate');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not exist\. Create it \(createdb\), or set XFC_DATABASE_URL/);
  });
});
