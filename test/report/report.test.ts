import assert from 'node:assert/strict';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { openReport, summariseCharts } from '../../lib/report/browser.js';
import { buildReport } from '../../lib/report/build.js';
import { startReportServer, type ReportServer } from '../../lib/report/server.js';
import { generateHistory } from '../../lib/report/synthetic-history.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { insertUser } from '../support/users.js';
import { existsSync } from 'node:fs';
import { chromiumPath } from '../../lib/report/browser.js';

/**
 * The report from a real database: a generated year of history for 60 users plus users with hostile names, built
 * to one file, opened in headless Chromium (charts drawn, no console errors, nothing fetched), and served.
 */

const hostile = `<img src=x onerror=alert(1)>`;
const now = new Date('2026-12-05T12:00:00Z');
const thresholds = { warnPercent: 90, overPercent: 100 };

describe('xfc report from a real database', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  let dir: string;

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.url);
    pool = await openPool(db.url);
    dir = mkdtempSync(join(tmpdir(), 'xfc-report-test-'));
    await generateHistory(pool, { users: 60, days: 365, now, volumes: ['/work/xfc/vol1', '/work/xfc/vol2'] });
    await insertUser(pool, { name: hostile, mountpoint: '/work/xfc/vol1' });
    await insertUser(pool, { name: 'never', mountpoint: '/work/xfc/vol2' });
    // The hostile user is the largest on vol1 (so named in the stack, the legend and a detail section), with a
    // hostile directory name in the latest scan.
    await pool.query(sql.unsafe`
      INSERT INTO xfc_scan (scan_id, user_id, username, status, scan_now, started_at, finished_at, applied_at,
                            usage_applied, bytes, temporal_byte_days, top_directories, age_histogram)
      SELECT 'hostile-1', id, name, 'complete', ${now.toISOString()}::timestamptz - interval '1 hour',
             ${now.toISOString()}::timestamptz - interval '2 hours', ${now.toISOString()}::timestamptz - interval '1 hour',
             ${now.toISOString()}::timestamptz - interval '1 hour', true, 1e18, 5e18,
             ${JSON.stringify({
               byBytes: [
                 {
                   path: `</script><script>alert(2)</script>`,
                   files: 1,
                   bytes: '1000000000000000000',
                   temporalByteDays: '1',
                 },
               ],
               byTemporal: [],
             })}::jsonb, NULL
      FROM xfc_control_user WHERE name = ${hostile}`);
    await pool.query(sql.unsafe`
      UPDATE xfc_control_user SET total_used = 1e18, quota_used = 5e18 WHERE name = ${hostile}`);
    // last_scanned is xfc's own copy (Django's column comes with the app's 0002).
    await pool.query(sql.unsafe`
      INSERT INTO xfc_user_state (user_id, last_scanned)
      SELECT id, ${now.toISOString()}::timestamptz - interval '1 hour' FROM xfc_control_user WHERE name = ${hostile}
      ON CONFLICT (user_id) DO UPDATE SET last_scanned = EXCLUDED.last_scanned`);
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds one self-contained page with every section, escaping names from the database', async () => {
    const { page } = await buildReport(pool, {
      since: new Date(now.getTime() - 365 * 86_400_000),
      now,
      links: 'anchors',
      ...thresholds,
    });
    assert.doesNotMatch(page, /<script/i, 'no script at all (the hostile names are escaped)');
    assert.doesNotMatch(page, /<img/i);
    assert.match(page, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.doesNotMatch(page, /\b(src|href)="(https?:)?\/\//, 'nothing loaded from elsewhere');
    for (const section of ['id="fleet"', 'id="health"', 'Volume vol1', 'Volume vol2', 'class="user"']) {
      assert.ok(page.includes(section), section);
    }
    assert.match(page, /Never scanned \(1\)/);
    assert.ok((page.match(/<svg/g) ?? []).length >= 10);
  });

  it(
    'renders its charts in headless Chromium with data and no console errors',
    { skip: !existsSync(chromiumPath) && 'no chromium' },
    async () => {
      const { page } = await buildReport(pool, {
        since: new Date(now.getTime() - 365 * 86_400_000),
        now,
        links: 'anchors',
        ...thresholds,
      });
      const file = join(dir, 'report.html');
      writeFileSync(file, page);
      const opened = await openReport(pathToFileURL(file).toString());
      try {
        const charts = await summariseCharts(opened.page);
        assert.deepEqual(opened.problems, []);
        assert.ok(charts.length >= 10, `${charts.length} charts`);
        for (const chart of charts) {
          assert.ok(
            chart.width > 200 && chart.height > 100,
            `${chart.label} is drawn (${chart.width}×${chart.height})`,
          );
          assert.ok(chart.paths >= 1, `${chart.label} draws data (${chart.paths} paths)`);
          assert.ok(chart.texts >= 2, `${chart.label} has a title and labels`);
        }
        const stacked = charts.find((chart) => chart.label.startsWith('Hard usage of vol1'));
        assert.ok(stacked && stacked.paths >= 9, 'the volume stack draws its largest users, the rest and the lines');
        const dialogs: string[] = [];
        opened.page.on('dialog', (dialog) => void dialog.dismiss().then(() => dialogs.push(dialog.message())));
        await opened.page.click(`a[href^="#user-"]`);
        assert.deepEqual(dialogs, [], 'no hostile script ran');
      } finally {
        await opened.close();
      }
    },
  );

  it('builds a user page (forecast, top directories, ages) and says so for an unknown user', async () => {
    const built = await buildReport(pool, {
      since: new Date(now.getTime() - 90 * 86_400_000),
      now,
      user: 'user0001',
      links: 'anchors',
      ...thresholds,
    });
    assert.equal(built.unknownUser, false);
    assert.match(built.page, /User user0001/);
    assert.match(built.page, /temporal quota reached/);
    assert.match(built.page, /Top directories/);
    const missing = await buildReport(pool, { since: now, now, user: 'nobody', links: 'anchors', ...thresholds });
    assert.equal(missing.unknownUser, true);
  });

  describe('served', () => {
    let server: ReportServer;
    before(async () => {
      server = await startReportServer(pool, { host: '127.0.0.1', port: 0, defaultSince: '365d', ...thresholds });
    });
    after(async () => server?.close());

    it('serves the report and user pages read-only, links users by path, refuses writes and bad input', async () => {
      const index = await fetch(server.url);
      assert.equal(index.status, 200);
      assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const body = await index.text();
      assert.match(body, new RegExp(`href="/user/${encodeURIComponent(hostile).replace(/[()]/g, '\\$&')}"`));
      const user = await fetch(`${server.url}user/${encodeURIComponent(hostile)}?since=30d`);
      assert.equal(user.status, 200);
      assert.doesNotMatch(await user.text(), /<img/);
      assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
      assert.equal((await fetch(`${server.url}?since=yesterday`)).status, 400);
      assert.equal((await fetch(`${server.url}etc/passwd`)).status, 404);
      assert.equal((await fetch(`${server.url}user/%E0%A4%A`)).status, 400);
    });
  });
});
