/**
 * Screenshots of `xfc report` for docs/screenshots/ (the README shows them). Builds the report from the database in
 * XFC_DATABASE_URL (for the pictures in the repository: `npm run demo`, then `npm run history:generate`), opens it
 * in headless Chromium and photographs the fleet, scan health, a volume and one user.
 *
 *   npm run report:screenshots [-- --user user0042]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config/env.js';
import { withPool } from '../../db/pool.js';
import { openReport, summariseCharts } from '../../lib/report/browser.js';
import { buildReport } from '../../lib/report/build.js';

const { values } = parseArgs({ options: { user: { type: 'string' }, since: { type: 'string', default: '365' } } });
const config = loadConfig();
const repo = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(repo, 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const since = new Date(Date.now() - Number(values.since) * 86_400_000);
const thresholds = { warnPercent: config.notify.warnPercent, overPercent: config.notify.overPercent };
const { report, userPage } = await withPool(config.databaseUrl, async (pool) => ({
  report: (await buildReport(pool, { since, links: 'anchors', topUsers: 8, ...thresholds })).page,
  userPage: values.user
    ? (await buildReport(pool, { since, links: 'anchors', user: values.user, ...thresholds })).page
    : undefined,
}));
const file = join(tmpdir(), `xfc-report-${process.pid}.html`);
writeFileSync(file, report);
const opened = await openReport(pathToFileURL(file).toString());
try {
  const charts = await summariseCharts(opened.page);
  console.log(
    `${charts.length} charts; problems: ${opened.problems.length === 0 ? 'none' : opened.problems.join('; ')}`,
  );
  const shoot = async (selector: string, name: string): Promise<void> => {
    await opened.page
      .locator(selector)
      .first()
      .screenshot({ path: join(outDir, name) });
    console.log(`docs/screenshots/${name}`);
  };
  await shoot('#fleet', 'report-fleet.png');
  await shoot('#health', 'report-scan-health.png');
  await shoot('section[id^="volume-"]', 'report-volume.png');
  await shoot('section.user', 'report-user.png');
  if (userPage) {
    writeFileSync(file, userPage);
    await opened.page.goto(pathToFileURL(file).toString());
    await shoot('section.user', 'report-user.png');
  }
} finally {
  await opened.close();
}
