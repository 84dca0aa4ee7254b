import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { adminUrl } from '../../support/postgres.js';
import { management } from '../../support/rabbitmq.js';
import { sleep } from './processes.js';

/**
 * Restarting this machine's real RabbitMQ broker and PostgreSQL cluster (scenarios 4 and 5). Both are shared by
 * everything on the machine: every connection, of every vhost and database, is cut. Each restart makes sure the
 * service is back (and waits until it answers) even when the restart itself fails half-way.
 */

const run = promisify(execFile);

async function command(file: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout, stderr } = await run(file, args, { timeout: timeoutMs });
  return `${stdout}${stderr}`.trim();
}

/** True when the management API answers and reports the node running (it also serves AMQP then). */
export async function brokerAnswers(): Promise<boolean> {
  try {
    const response = await management('GET', '/api/overview');
    return response.ok;
  } catch {
    return false;
  }
}

/** `rabbitmqctl await_startup`, then the management API: AMQP and the API are both up again. */
async function waitForBroker(timeoutMs: number): Promise<void> {
  await command('rabbitmqctl', ['await_startup', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5_000);
  const deadline = Date.now() + timeoutMs;
  while (!(await brokerAnswers())) {
    if (Date.now() > deadline) throw new Error('RabbitMQ started but its management API does not answer');
    await sleep(250);
  }
}

/** Makes sure the broker application is running: start_app is a no-op when it is. */
export async function ensureBrokerRunning(timeoutMs = 90_000): Promise<void> {
  try {
    await command('rabbitmqctl', ['start_app']);
  } catch {
    // The node itself is down (not just the app): start it.
    await command('rabbitmq-server', ['-detached']).catch(() => undefined);
  }
  await waitForBroker(timeoutMs);
}

/**
 * Stops the broker application (every connection drops, queues go offline), keeps it down for `downMs`, then
 * starts it again and waits until it is ready. Returns how long it was unavailable.
 */
export async function restartBroker(downMs: number): Promise<{ unavailableMs: number }> {
  const stoppedAt = Date.now();
  try {
    await command('rabbitmqctl', ['stop_app']);
    await sleep(downMs);
  } finally {
    await ensureBrokerRunning();
  }
  return { unavailableMs: Date.now() - stoppedAt };
}

/** The cluster's version directory (`ls /etc/postgresql`), e.g. "15"; override with XFC_FAULTS_PG_CLUSTER="15 main". */
export function postgresCluster(): { version: string; name: string } {
  const given = process.env.XFC_FAULTS_PG_CLUSTER?.trim().split(/\s+/);
  if (given && given.length === 2) return { version: given[0]!, name: given[1]! };
  const versions = readdirSync('/etc/postgresql').filter((entry) => /^\d+$/.test(entry));
  if (versions.length !== 1) {
    throw new Error(
      `found PostgreSQL versions [${versions.join(', ')}] in /etc/postgresql; set XFC_FAULTS_PG_CLUSTER="VERSION NAME"`,
    );
  }
  return { version: versions[0]!, name: 'main' };
}

export async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitForPostgres(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await postgresAnswers())) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not answer within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

export async function ensurePostgresRunning(timeoutMs = 60_000): Promise<void> {
  if (await postgresAnswers()) return;
  const { version, name } = postgresCluster();
  await command('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']).catch(() => undefined);
  await waitForPostgres(timeoutMs);
}

/**
 * `pg_ctlcluster … stop` (fast: open sessions are terminated), `downMs` of nothing, then start; or with `downMs` 0
 * a plain `restart`. Returns how long the server did not answer.
 */
export async function restartPostgres(
  downMs: number,
  whileDown: () => void = () => undefined,
): Promise<{ unavailableMs: number }> {
  const { version, name } = postgresCluster();
  const stoppedAt = Date.now();
  try {
    if (downMs === 0) {
      await command('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'restart']);
    } else {
      await command('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'stop']);
      whileDown();
      await sleep(downMs);
      await command('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']);
    }
  } finally {
    await ensurePostgresRunning();
  }
  return { unavailableMs: Date.now() - stoppedAt };
}

/**
 * Clients of the machine's broker and database other than this process: restarting either under them would break
 * their work. The CI tests of scenarios 4 and 5 skip themselves when anyone else is connected.
 */
export async function otherClients(): Promise<{ broker: number; postgres: number }> {
  const response = await management('GET', '/api/connections');
  const broker = response.ok ? ((await response.json()) as unknown[]).length : 0;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return { broker, postgres: Number(rows[0]?.n ?? 0) };
  } finally {
    await client.end();
  }
}
