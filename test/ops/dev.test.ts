import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import { backfillUsers } from '../../lib/backfill/index.js';
import { KiB, TiB } from '../../lib/common/units.js';
import { loadConfig } from '../../lib/config/env.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { frontendAnswers } from '../../cli/ops/temporal-dev-server.js';
import type { Check } from '../../cli/ops/doctor.js';
import { waitFor } from '../amqp/fixtures/broker.js';
import { freePort } from '../support/ports.js';
import { adminUrl } from '../support/postgres.js';
import { spawnXfc, type XfcProcess } from '../support/processes.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { scratchDir } from '../support/scratch.js';
import { makeWorkDir } from '../support/trees.js';

/** The processes whose command line mentions `text` (e.g. a temporary directory only our processes know). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForOutput(proc: XfcProcess, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (!proc.output().includes(text)) {
    if (exited) throw new Error(`xfc exited before printing ${JSON.stringify(text)}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function doctor(env: Record<string, string>): Promise<{ code: number | string; checks: Check[] }> {
  const proc = spawnXfc(['doctor', '--json'], env);
  const code = await proc.exited;
  const json = proc.output().slice(proc.output().indexOf('{'));
  return { code, checks: (JSON.parse(json) as { checks: Check[] }).checks };
}

const failing = (checks: Check[]): string[] =>
  checks.filter((check) => check.status === 'fail').map((check) => `${check.area}/${check.name}`);

/**
 * `xfc dev` as a person runs it, in a child process: a database that does not exist yet, a vhost of its own, no
 * Temporal running (dev starts the dev server, state in its XFC_VAR_DIR), no SMTP server (the sink keeps mail as
 * files). Then `xfc doctor` against it, healthy and broken, and Ctrl-C.
 */
describe('xfc dev', () => {
  const databaseName = `xfc_test_dev_${randomBytes(5).toString('hex')}`;
  let vhost: TestVhost;
  let varDir: string;
  let root: string;
  let env: Record<string, string>;
  let dev: XfcProcess;
  let pool: DatabasePool | undefined;
  let uiPort: number;

  before(async () => {
    vhost = await createTestVhost();
    varDir = mkdtempSync(join(tmpdir(), 'xfc-dev-var-'));
    root = scratchDir('xfc-dev-root');
    makeWorkDir(root, 'vol1', 'alice', { dirs: 3, filesPerDir: 10, size: 10_000 });
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${databaseName}`;
    uiPort = await freePort();
    env = {
      XFC_DATABASE_URL: databaseUrl.toString(),
      XFC_AMQP_URL: vhost.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      XFC_TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
      XFC_VAR_DIR: varDir,
      XFC_ROOT: root,
      XFC_SMTP_URL: '',
      XFC_MAIL_FROM: 'JASMIN XFC <xfc@example.org>',
      XFC_METRICS_PORT: '0',
      XFC_TEMPORAL_METRICS_PORT: '0',
      XFC_REPORT_PORT: String(await freePort()),
    };
    dev = spawnXfc(['dev'], env);
  });

  after(async () => {
    if (dev.child.exitCode === null && dev.child.signalCode === null) {
      dev.child.kill('SIGKILL');
      await dev.exited;
    }
    await pool?.end();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    await admin.end();
    await vhost.delete();
    rmSync(varDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the database, starts Temporal with its Web UI, and prints where everything is', async () => {
    await waitForOutput(dev, 'xfc dev is running', 60_000);
    const output = dev.output();
    assert.match(output, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:${uiPort}`));
    assert.match(output, /\(database created\)/);
    assert.match(output, /dev server started here, pid \d+/);
    assert.match(output, /each email is kept as a file in/);
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    assert.ok(existsSync(join(varDir, 'temporal', 'temporal.db')), 'Temporal keeps its state in XFC_VAR_DIR');
  });

  it('scans a user requested through RabbitMQ and keeps the email as a file', async () => {
    const config = loadConfig(env);
    pool = await openPool(config.databaseUrl);
    await backfillUsers(pool, {
      root,
      exclude: [],
      temporalQuota: 300n * TiB,
      hardQuota: 100n * KiB, // alice holds 300 kB: over, so she gets an email
      emails: new Map([['alice', 'alice@example.org']]),
      notify: true,
      dryRun: false,
    });
    await requestScanViaQueue(config, 'alice');
    const scanned = z.object({ bytes: z.bigint().nullable(), status: z.string() });
    let scan: z.infer<typeof scanned> | null = null;
    await waitFor(
      'alice’s scan to be applied',
      async () =>
        (scan = await pool!.maybeOne(
          sql.type(scanned)`SELECT bytes, status FROM xfc_scan WHERE username = 'alice'`,
        )) !== null,
      60_000,
    );
    assert.deepEqual(scan, { bytes: 300_000n, status: 'complete' });
    const mailDir = join(varDir, 'mail');
    await waitFor('the email file', () => existsSync(mailDir) && readdirSync(mailDir).some((f) => f.endsWith('.eml')));
    // The live report the banner names draws alice's scan, read-only.
    const reportUrl = new RegExp(`report +(http://127\\.0\\.0\\.1:${env.XFC_REPORT_PORT}/)`).exec(dev.output())?.[1];
    assert.ok(reportUrl, 'the banner prints the report URL');
    const page = await fetch(`${reportUrl}user/alice`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<h2>User alice[\s\S]*<svg/);
    assert.equal((await fetch(reportUrl, { method: 'POST' })).status, 405);
    const [file] = readdirSync(mailDir).filter((name) => name.endsWith('.eml'));
    assert.match(readFileSync(join(mailDir, file!), 'utf8'), /To: alice@example\.org/);
  });

  it('passes xfc doctor', async () => {
    const { code, checks } = await doctor(env);
    assert.deepEqual(failing(checks), []);
    assert.equal(code, 0);
    const smtp = checks.find((check) => check.area === 'SMTP' && check.name === 'server');
    assert.match(smtp?.detail ?? '', /mail sink of xfc dev/);
  });

  it('makes xfc doctor name Temporal when TEMPORAL_ADDRESS points at a wrong port', async () => {
    const { code, checks } = await doctor({ ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    assert.equal(code, 1);
    assert.deepEqual(failing(checks), ['Temporal/frontend']);
  });

  it('makes xfc doctor name RabbitMQ and PostgreSQL when their ports are wrong', async () => {
    const port = await freePort();
    const { code, checks } = await doctor({
      ...env,
      XFC_AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}`,
      XFC_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/xfc`,
    });
    assert.equal(code, 1);
    assert.deepEqual(failing(checks), ['PostgreSQL/reachable', 'RabbitMQ/reachable']);
    assert.ok(checks.some((check) => check.area === 'Temporal' && check.status === 'ok'));
  });

  it('stops everything on Ctrl-C (SIGINT), its Temporal dev server included', async () => {
    const temporalPid = Number(/dev server started here, pid (\d+)/.exec(dev.output())?.[1]);
    assert.ok(alive(temporalPid));
    const started = Date.now();
    dev.child.kill('SIGINT');
    const code = await Promise.race([
      dev.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000).unref()),
    ]);
    assert.equal(code, 0, dev.output());
    assert.ok(Date.now() - started < 30_000);
    assert.match(dev.output(), /Stopped in/);
    assert.match(dev.output(), /bridge: bridge\.stopped/);
    assert.equal(alive(temporalPid), false, 'the Temporal dev server is gone');
    assert.deepEqual(processesMentioning(varDir), [], 'no process of ours is left behind');
    assert.equal(await frontendAnswers(env.TEMPORAL_ADDRESS!, 1_000), false);
    assert.equal(existsSync(join(varDir, 'dev.json')), false, 'dev.json is removed');
  });
});
