import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Opens a report page in headless Chromium (Debian's, /usr/bin/chromium, or CHROMIUM_PATH) with the network cut
 * off: the page must stand alone. Used by the screenshots script and the browser test.
 */

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface OpenedReport {
  page: Page;
  /** Console errors and page errors, and any request that tried to leave the page. */
  problems: string[];
  close(): Promise<void>;
}

export interface ChartSummary {
  label: string;
  /** Drawn paths with data (non-empty `d`), rects, and texts inside the chart's SVG. */
  paths: number;
  texts: number;
  width: number;
  height: number;
}

export async function openReport(url: string, viewport = { width: 1280, height: 900 }): Promise<OpenedReport> {
  const profile = mkdtempSync(join(tmpdir(), 'xfc-report-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      viewport,
      deviceScaleFactor: 1,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.route('**/*', (route) => {
      const target = route.request().url();
      if (target === url || target.startsWith('file:') || target.startsWith('data:')) return route.continue();
      problems.push(`request off the page: ${target}`);
      return route.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    const opened = context;
    return {
      page,
      problems,
      close: async () => {
        await opened.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

/**
 * What each chart figure on the page drew. (A string evaluated in the page: the project compiles without the DOM
 * library.)
 */
export async function summariseCharts(page: Page): Promise<ChartSummary[]> {
  return page.evaluate<ChartSummary[]>(`[...document.querySelectorAll('figure.chart')].map((figure) => {
    const svg = figure.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      label: figure.getAttribute('aria-label') || '',
      paths: svg ? [...svg.querySelectorAll('path')].filter((path) => (path.getAttribute('d') || '').length > 10).length : 0,
      texts: svg ? svg.querySelectorAll('text').length : 0,
      width: box.width,
      height: box.height,
    };
  })`);
}
