/**
 * Screenshots of the Temporal Web UI for docs/screenshots/ (the README shows them): a running, a completed and a
 * failed scan in the workflow list (with their summaries and XfcScanStatus), and the failed scan's page.
 *
 *   npm run temporal-ui:screenshots
 *
 * Self-contained: a dev server of its own with the UI on a free port, a test database and vhost, in-process
 * workers. alice's scan completes, nobody's fails (unknown-user), and carol's is started after the scan worker
 * stopped, so it stays Running (waiting for a worker) while the pictures are taken. Needs Debian's chromium.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { chromiumPath } from '../../lib/report/browser.js';
import { workflowUrl } from '../../lib/temporal/client.js';
import { scanWorkflowId, searchAttributeNames } from '../../lib/temporal/names.js';
import { scanResult } from '../../lib/temporal/scan-result.js';
import { startScanWorkflow } from '../../lib/temporal/starters.js';
import { freePort } from '../support/ports.js';
import { startTestStack } from '../support/stack.js';
import { makeWorkDir } from '../support/trees.js';
import { registerUsersFromTree } from '../support/users.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(repo, 'docs', 'screenshots');

function request(username: string) {
  return {
    version: 1 as const,
    requestId: `screenshot-${username}`,
    username,
    reason: 'manual' as const,
    requestedAt: new Date().toISOString(),
  };
}

/** Waits until `text` is on the page, reloading (the list is eventually consistent). */
async function waitForText(page: Page, url: string, text: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    await page.goto(url, { waitUntil: 'networkidle' });
    if (
      await page
        .getByText(text)
        .first()
        .isVisible()
        .catch(() => false)
    )
      return;
    if (tries >= 20) throw new Error(`"${text}" never appeared at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function run(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const uiPort = await freePort();
  const stack = await startTestStack({ XFC_TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` }, { kind: 'dev', uiPort });
  const profile = mkdtempSync(join(tmpdir(), 'xfc-temporal-ui-'));
  try {
    makeWorkDir(stack.root, 'vol1', 'alice', { dirs: 20, filesPerDir: 50, size: 4096 });
    makeWorkDir(stack.root, 'vol2', 'carol');
    await registerUsersFromTree(stack.pool, stack.root);
    await stack.startWorkers('control');
    const scanWorker = await stack.startWorkers('scan');
    const alice = await scanResult(
      stack.client.workflow.getHandle(
        (await startScanWorkflow(stack.client, stack.config, request('alice'))).workflowId,
      ),
    );
    const nobody = await scanResult(
      stack.client.workflow.getHandle(
        (await startScanWorkflow(stack.client, stack.config, request('nobody'))).workflowId,
      ),
    );
    console.log(`alice: ${alice.type}; nobody: ${nobody.type}`);
    await scanWorker.stop();
    await startScanWorkflow(stack.client, stack.config, request('carol'));

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      viewport: { width: 1440, height: 760 },
    });
    try {
      // The list's columns, as a person would pick them with the table's gear (stored by the UI in localStorage):
      // xfc's search attributes beside the status, so the three scans can be told apart at a glance.
      const columns = {
        [stack.config.temporal.namespace]: [
          'Status',
          'Workflow ID',
          'Type',
          ...searchAttributeNames,
          'Start',
          'End',
        ].map((label) => ({ label })),
      };
      await context.addInitScript((stored: string) => {
        // Runs in the page (no DOM types in this Node project): globalThis there is the window.
        (globalThis as unknown as { localStorage: { setItem(key: string, value: string): void } }).localStorage.setItem(
          'namespace-workflow-table-columns',
          stored,
        );
      }, JSON.stringify(columns));
      const page = context.pages()[0] ?? (await context.newPage());
      const shoot = async (name: string): Promise<void> => {
        const path = join(outDir, name);
        await page.screenshot({ path });
        console.log(`${page.url()} → ${relative(repo, path)}`);
      };
      const ui = stack.config.temporal.uiUrl;
      const list = `${ui}/namespaces/${encodeURIComponent(stack.config.temporal.namespace)}/workflows?query=${encodeURIComponent('WorkflowType="scanUser"')}`;
      await waitForText(page, list, 'scan-carol');
      await page.getByText('Failed').first().waitFor({ timeout: 10_000 });
      await shoot('temporal-ui-scans.png');

      await page.goto(workflowUrl(stack.config, scanWorkflowId('nobody')), { waitUntil: 'networkidle' });
      await page.getByText('Scan of nobody (manual)').first().waitFor({ timeout: 30_000 });
      await shoot('temporal-ui-failed-scan.png');

      // A running workflow's page polls for ever (never network-idle): wait for what it must show instead. Its
      // User Metadata tab holds the static summary and details and the current details the scan sets.
      await page.goto(workflowUrl(stack.config, scanWorkflowId('carol')), { waitUntil: 'load' });
      await page.getByText('User Metadata').first().click({ timeout: 30_000 });
      await page.getByText('Scan of carol (manual)').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1_000);
      await shoot('temporal-ui-running-scan.png');
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
    await stack.stop();
  }
}

run().catch((err: unknown) => {
  console.error(`temporal-ui:screenshots: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
