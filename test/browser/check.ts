/**
 * `npm run check:browser [-- USER]`: with the dev stack running after a demo scan (`npm run demo -- --keep`, or
 * `npm run dev` + `npm run demo`), opens the Temporal Web UI in headless Chromium, finds USER's scan workflow with
 * the list query `XfcUser="USER"` (default carol), opens it, and saves a screenshot of each page under
 * docs/screenshots/. Run by hand, not in CI: it needs Debian's chromium (`apt-get install -y chromium`).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../lib/config/env.js';
import { readDevState } from '../../cli/ops/dev-state.js';
import { devPaths } from '../../cli/ops/paths.js';
import { userWorkflowsUrl } from '../../lib/temporal/client.js';
import { scanWorkflowId } from '../../lib/temporal/names.js';
import { errorMessage } from '../../lib/common/errors.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without the background-networking flags, Chromium's own connections are refused in a sandboxed machine. */
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function run(): Promise<void> {
  const user = process.argv[2] ?? 'carol';
  const config = loadConfig();
  const dev = readDevState(devPaths(config).stateFile);
  const temporal = { ...config.temporal, uiUrl: dev?.temporalUiUrl ?? config.temporal.uiUrl };
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const outDir = join(repo, 'docs', 'screenshots');
  mkdirSync(outDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'xfc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: flags,
    viewport: { width: 1440, height: 900 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const listUrl = userWorkflowsUrl({ temporal }, user);
    console.log(`Opening ${listUrl}`);
    await page.goto(listUrl, { waitUntil: 'networkidle' });
    const workflowId = scanWorkflowId(user);
    const link = page.getByRole('link', { name: workflowId, exact: true }).first();
    await link.waitFor({ timeout: 30_000 }).catch(() => {
      throw new Error(
        `No ${workflowId} in the Web UI list filtered by XfcUser="${user}". Run \`npm run demo -- --keep\` first.`,
      );
    });
    const listShot = join(outDir, 'webui-workflows-by-user.png');
    await page.screenshot({ path: listShot });
    console.log(`Found ${workflowId} in the list: ${relative(repo, listShot)}`);

    await link.click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`), { timeout: 30_000 });
    await page.getByText('scanUser').first().waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    const detailShot = join(outDir, 'webui-scan-workflow.png');
    await page.screenshot({ path: detailShot });
    console.log(`Opened ${page.url()}: ${relative(repo, detailShot)}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

run().catch((err: unknown) => {
  console.error(`check:browser: ${errorMessage(err)}`);
  process.exit(1);
});
