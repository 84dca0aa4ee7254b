import { readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ChannelModel } from 'amqplib';
import { sql } from 'slonik';
import { z } from 'zod';
import { closeQuietly, connectAmqp } from '../../lib/amqp/connection.js';
import { deadQueue, exchanges, queues, scanCompletedQueue, scanRequestQueue } from '../../lib/amqp/topology.js';
import { errorMessage } from '../../lib/common/errors.js';
import { xfcCommand } from '../../lib/common/invocation.js';
import { redact, type XfcConfig } from '../../lib/config/env.js';
import { printable } from '../../lib/common/printable.js';
import { clockSkewMs } from '../../db/scan-authority.js';
import { permanentFailureReasons } from '../../db/scans.js';
import { migrationStatus } from '../../db/migrate.js';
import { withPool, type DatabasePool } from '../../db/pool.js';
import { createMailer } from '../../lib/notify/mailer.js';
import { parseSender } from '../../lib/notify/message.js';
import { sweepScheduleId } from '../../lib/temporal/names.js';
import { temporalConnectionOptions } from '../../lib/temporal/tls.js';
import { checkScanFreshness } from './doctor-freshness.js';
import { readDevState, type DevState } from './dev-state.js';
import { checkDjangoCoexistence } from './doctor-django.js';
import { devPaths } from './paths.js';
import { pollersOf } from './pollers.js';
import { portOpen } from './temporal-dev-server.js';
import { checkTemporalNamespace } from './temporal-namespace-check.js';

/**
 * `xfc doctor`: is everything xfc needs there, and if not, what to do. Each check is one line: ok, warn (works, but
 * look) or fail (xfc cannot work until it is fixed). A check that needs a service that is down is left out, so the
 * first failure of each service is the one to fix.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  area: 'PostgreSQL' | 'RabbitMQ' | 'Temporal' | 'SMTP' | 'XFC_ROOT' | 'Scans';
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
}

type Add = (name: string, status: CheckStatus, detail: string, fix?: string) => void;

function collector(area: Check['area'], checks: Check[]): Add {
  return (name, status, detail, fix) => checks.push({ area, name, status, detail, ...(fix && { fix }) });
}

function codeOf(err: unknown): string | undefined {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (current as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested[0] instanceof Error) return codeOf(nested[0]);
    current = current.cause;
  }
  return undefined;
}

/** The Django tables and the columns xfc reads and writes (docs/design.md §4). */
const djangoColumns: Record<string, string[]> = {
  xfc_control_cachedisk: ['id', 'mountpoint', 'size_bytes', 'allocated_bytes', 'used_bytes'],
  xfc_control_user: [
    'id',
    'name',
    'email',
    'notify',
    'quota_size',
    'quota_used',
    'hard_limit_size',
    'total_used',
    'cache_path',
    'cache_disk_id',
  ],
};

async function checkPostgres(config: XfcConfig, add: Add): Promise<void> {
  const where = redact(config.databaseUrl);
  let reached = false;
  try {
    await withPool(
      config.databaseUrl,
      async (pool) => {
        const version = await pool.oneFirst(sql.type(z.object({ server_version: z.string() }))`SHOW server_version`);
        reached = true;
        await checkPostgresSchema(pool, where, version, config, add);
      },
      { maximumPoolSize: 1, connectionTimeoutMs: 5_000 },
    );
  } catch (err) {
    if (reached) throw err;
    const code = codeOf(err);
    if (code === '3D000') {
      add(
        'database',
        'fail',
        `${where}: the database does not exist`,
        `\`${xfcCommand('dev')}\` creates it; or createdb it`,
      );
    } else if (code === '28P01' || code === '28000') {
      add('reachable', 'fail', `${where} refused the credentials (${errorMessage(err)})`, 'check XFC_DATABASE_URL');
    } else {
      add(
        'reachable',
        'fail',
        `cannot connect to ${where} (${errorMessage(err)})`,
        'start PostgreSQL, or set XFC_DATABASE_URL',
      );
    }
  }
}

const columnRow = z.object({ table_name: z.string(), column_name: z.string() });
const countsRow = z.object({ users: z.bigint(), disks: z.bigint() });

async function checkPostgresSchema(
  pool: DatabasePool,
  where: string,
  version: string,
  config: XfcConfig,
  add: Add,
): Promise<void> {
  add('reachable', 'ok', `${where} (PostgreSQL ${version})`);
  const status = await migrationStatus(config.databaseUrl);
  const total = status.applied.length + status.pending.length;
  if (status.pending.length > 0) {
    add(
      'migrations',
      'fail',
      `${status.pending.length} of ${total} pending: ${status.pending.join(', ')}`,
      `\`${xfcCommand('db migrate')}\` (workers and \`xfc dev\` also migrate at start-up)`,
    );
  } else {
    add('migrations', 'ok', `all ${total} applied`);
  }
  const columns = await pool.any(sql.type(columnRow)`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ANY(${sql.array(Object.keys(djangoColumns), 'text')})`);
  const missing = Object.entries(djangoColumns).flatMap(([table, wanted]) =>
    wanted
      .filter((column) => !columns.some((row) => row.table_name === table && row.column_name === column))
      .map((column) => `${table}.${column}`),
  );
  if (missing.length > 0) {
    add(
      'Django tables',
      'fail',
      `missing: ${missing.join(', ')}`,
      `\`${xfcCommand('db migrate')}\` creates or completes them`,
    );
    return;
  }
  const row = await pool.maybeOne(sql.type(countsRow)`
    SELECT (SELECT count(*) FROM xfc_control_user) AS users, (SELECT count(*) FROM xfc_control_cachedisk) AS disks`);
  add(
    'Django tables',
    'ok',
    `xfc_control_user (${row?.users ?? '?'} users), xfc_control_cachedisk (${row?.disks ?? '?'} volumes)`,
  );
  if (status.pending.length === 0) {
    for (const found of await checkDjangoCoexistence(pool)) add(found.name, found.status, found.detail, found.fix);
  }
}

async function checkRabbitMq(config: XfcConfig, add: Add): Promise<void> {
  const where = redact(config.amqpUrl);
  const vhost = decodeURIComponent(new URL(config.amqpUrl).pathname.slice(1)) || '/';
  let connection: ChannelModel;
  try {
    connection = await connectAmqp(config.amqpUrl, 'doctor');
  } catch (err) {
    const text = errorMessage(err);
    if (/vhost|NOT_ALLOWED|ConnectionClose/i.test(text)) {
      add(
        'vhost',
        'fail',
        `vhost ${vhost} does not exist or is not open to this user (${text})`,
        'create it (deploy/rabbitmq/setup-users.sh), or fix the path of XFC_AMQP_URL',
      );
    } else if (/ACCESS_REFUSED|403/i.test(text)) {
      add('reachable', 'fail', `${where} refused the credentials`, 'check the user and password in XFC_AMQP_URL');
    } else {
      add('reachable', 'fail', text, 'start RabbitMQ, or set XFC_AMQP_URL');
    }
    return;
  }
  connection.on('error', () => undefined);
  try {
    add('reachable', 'ok', `${where}, vhost ${vhost}`);
    // A failed passive declaration closes its channel: one channel per check.
    const probe = async <T>(run: (channel: Awaited<ReturnType<ChannelModel['createChannel']>>) => Promise<T>) => {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        return await run(channel);
      } finally {
        await channel.close().catch(() => undefined);
      }
    };
    const missing: string[] = [];
    for (const exchange of exchanges) {
      await probe((channel) => channel.checkExchange(exchange.name)).catch(() =>
        missing.push(`exchange ${exchange.name}`),
      );
    }
    const counts = new Map<string, { messageCount: number; consumerCount: number }>();
    for (const queue of queues) {
      await probe((channel) => channel.checkQueue(queue.name)).then(
        (reply) => counts.set(queue.name, reply),
        () => missing.push(`queue ${queue.name}`),
      );
    }
    if (missing.length > 0) {
      add(
        'topology',
        'fail',
        `missing: ${missing.join(', ')}`,
        `\`${xfcCommand('amqp setup')}\` (xfc dev and the workers declare it too)`,
      );
    } else {
      add(
        'topology',
        'ok',
        `exchanges ${exchanges.map((e) => e.name).join(', ')}; queues ${queues.map((q) => `${q.name} (${counts.get(q.name)?.messageCount ?? 0} waiting)`).join(', ')}`,
      );
    }
    const unconsumed = [scanRequestQueue, scanCompletedQueue].filter(
      (name) => counts.has(name) && counts.get(name)?.consumerCount === 0,
    );
    if (unconsumed.length > 0) {
      add(
        'bridge',
        'fail',
        `nothing consumes ${unconsumed.join(', ')}: scan requests and results wait there`,
        `start \`${xfcCommand('bridge')}\` (or \`${xfcCommand('dev')}\`)`,
      );
    } else if (counts.has(scanRequestQueue)) {
      add(
        'bridge',
        'ok',
        `consuming (${counts.get(scanRequestQueue)?.consumerCount} consumer(s) on ${scanRequestQueue})`,
      );
    }
    const dead = counts.get(deadQueue)?.messageCount ?? 0;
    if (dead > 0)
      add(
        'dead letters',
        'warn',
        `${dead} message(s) in ${deadQueue}`,
        `\`${xfcCommand('amqp dead')}\` lists them; --requeue puts them back`,
      );
    else if (counts.has(deadQueue)) add('dead letters', 'ok', `${deadQueue} is empty`);
  } finally {
    await closeQuietly(connection);
  }
  await checkManagementApi(config, add);
}

/** The management API is optional: the UI is handy, xfc itself never needs it. */
async function checkManagementApi(config: XfcConfig, add: Add): Promise<void> {
  const amqp = new URL(config.amqpUrl);
  const url = `http://${amqp.hostname}:15672/api/overview`;
  const auth = Buffer.from(
    `${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`,
  ).toString('base64');
  try {
    const response = await fetch(url, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(3_000),
    });
    if (!response.ok) {
      add(
        'management API',
        'warn',
        `http://${amqp.hostname}:15672 answered ${response.status} (optional)`,
        'only needed for the management UI',
      );
      return;
    }
    const overview = (await response.json()) as { rabbitmq_version?: string };
    add('management API', 'ok', `http://${amqp.hostname}:15672 (RabbitMQ ${overview.rabbitmq_version ?? '?'})`);
  } catch (err) {
    add(
      'management API',
      'warn',
      `not reachable at http://${amqp.hostname}:15672 (${errorMessage(err)}; optional)`,
      '`rabbitmq-plugins enable rabbitmq_management` for the web UI',
    );
  }
}

async function checkTemporal(config: XfcConfig, add: Add, scanPollers: string[]): Promise<void> {
  const { address } = config.temporal;
  if (!(await portOpen(address, 5_000))) {
    add(
      'frontend',
      'fail',
      `nothing listens at ${address}`,
      `start it (\`${xfcCommand('dev')}\` does), or set TEMPORAL_ADDRESS`,
    );
    return;
  }
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: 5_000 });
    const info = await connection.workflowService.getSystemInfo({});
    add('frontend', 'ok', `${address} (server ${info.serverVersion || '?'})`);
  } catch (err) {
    await connection?.close().catch(() => undefined);
    // The port is open, so something is there: most often a TLS mismatch (a frontend with TLS reached over plain
    // TCP, an untrusted CA, no or the wrong client certificate), or a server still starting.
    add(
      'frontend',
      'fail',
      `${address} accepts connections but the Temporal handshake failed (${errorMessage(err)})`,
      config.temporal.tls.enabled
        ? 'check the TLS settings (TEMPORAL_TLS_*: the CA that signed the server, a client certificate it trusts) ' +
            'against the frontend’s, or TEMPORAL_ADDRESS'
        : 'if the frontend uses TLS, set TEMPORAL_TLS_SERVER_CA_CERT_PATH (and TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH for mutual TLS); otherwise ' +
            'check TEMPORAL_ADDRESS points at a Temporal frontend',
    );
    return;
  }
  try {
    await describeTemporal(config, connection, add, scanPollers);
  } finally {
    await connection.close();
  }
}

async function describeTemporal(
  config: XfcConfig,
  connection: Connection,
  add: Add,
  scanPollers: string[],
): Promise<void> {
  const { namespace, controlTaskQueue, scanTaskQueue } = config.temporal;
  // The namespace and every search attribute of cli/ops/search-attribute.ts, with the operator's command for each gap.
  const cluster = await checkTemporalNamespace(connection, namespace);
  add('namespace', cluster.namespace.status, cluster.namespace.detail, cluster.namespace.fix);
  if (!cluster.searchAttributes) return;
  add(
    'search attributes',
    cluster.searchAttributes.status,
    cluster.searchAttributes.detail,
    cluster.searchAttributes.fix,
  );
  const client = new Client({ connection, namespace });
  try {
    const schedule = await client.schedule.getHandle(sweepScheduleId).describe();
    const next = schedule.info.nextActionTimes[0];
    if (schedule.state.paused) {
      add(
        'schedule',
        'warn',
        `${sweepScheduleId} is paused${schedule.state.note ? ` (${schedule.state.note})` : ''}: no sweeps start`,
        `\`${xfcCommand('schedule unpause')}\``,
      );
    } else {
      add('schedule', 'ok', `${sweepScheduleId} active${next ? `, next sweep ${next.toISOString()}` : ''}`);
    }
  } catch (err) {
    add(
      'schedule',
      'fail',
      `${sweepScheduleId}: ${errorMessage(err)}`,
      `\`${xfcCommand('schedule apply')}\` (control workers apply it at start-up)`,
    );
  }
  const pollers = await Promise.all([
    pollersOf(connection, namespace, controlTaskQueue, 'workflow'),
    pollersOf(connection, namespace, controlTaskQueue, 'activity'),
    pollersOf(connection, namespace, scanTaskQueue, 'activity'),
  ]);
  const [controlWorkflows, controlActivities, scans] = pollers;
  scanPollers.push(...scans.map((poller) => poller.identity));
  const identities = (list: Array<{ identity: string }>): string =>
    [...new Set(list.map((p) => p.identity))].join(', ');
  if (controlWorkflows.length === 0 || controlActivities.length === 0) {
    add(
      'control worker',
      'fail',
      `no worker polls ${controlTaskQueue}`,
      `start \`${xfcCommand('worker --role control')}\` (or \`${xfcCommand('dev')}\`)`,
    );
  } else {
    add('control worker', 'ok', `${controlTaskQueue}: ${identities(controlWorkflows)}`);
  }
  if (scans.length === 0) {
    add(
      'scan worker',
      'fail',
      `no worker polls ${scanTaskQueue}: scans wait`,
      `start \`${xfcCommand('worker --role scan')}\` on a host that mounts the volumes (or \`${xfcCommand('dev')}\`)`,
    );
  } else {
    add('scan worker', 'ok', `${scanTaskQueue}: ${identities(scans)}`);
  }
}

async function checkSmtp(config: XfcConfig, dev: DevState | undefined, add: Add): Promise<void> {
  try {
    const { domain } = parseSender(config.mail.from);
    // Mail from a local-only domain is refused or binned by most receiving servers, and replies go nowhere.
    if (/^(localhost|localdomain)$|\.(localhost|localdomain|local|invalid|example|test)$/.test(domain)) {
      add(
        'From',
        'warn',
        `${config.mail.from}: ${domain} is not a domain other mail servers accept mail from`,
        'set XFC_MAIL_FROM to an address of your site, e.g. "JASMIN XFC <xfc@example.org>"',
      );
    } else {
      add('From', 'ok', config.mail.from);
    }
  } catch (err) {
    add(
      'From',
      'fail',
      `XFC_MAIL_FROM=${config.mail.from}: ${errorMessage(err)}`,
      'set XFC_MAIL_FROM to e.g. "JASMIN XFC <xfc@example.org>"',
    );
    return;
  }
  let url = config.mail.smtpUrl;
  let note = '';
  if (!config.mail.smtpUrlExplicit) {
    if (dev) {
      url = dev.smtpUrl;
      note = ` (XFC_SMTP_URL is unset: the mail sink of xfc dev pid ${dev.pid}${dev.mailDir ? `, files in ${dev.mailDir}` : ''})`;
    } else {
      note = ' (XFC_SMTP_URL is unset: the default)';
    }
  }
  const mailer = createMailer({ smtpUrl: url, from: config.mail.from });
  try {
    await Promise.race([
      mailer.verify(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
    ]);
    add('server', 'ok', `${redact(url)} accepts connections and EHLO${note}`);
  } catch (err) {
    add(
      'server',
      'fail',
      `${redact(url)}${note}: ${errorMessage(err).replace(`SMTP ${redact(url)}: `, '')}`,
      config.mail.smtpUrlExplicit
        ? 'check XFC_SMTP_URL and the mail server'
        : `set XFC_SMTP_URL, or run \`${xfcCommand('dev')}\` (it keeps mail as files)`,
    );
  } finally {
    mailer.close();
  }
}

/**
 * The tree under XFC_ROOT, on this host. Only scan workers read it: its absence fails the check where a scan worker
 * of this host polls (or no Temporal told us), and is a warning on a host that runs none (a control worker's).
 */
async function checkRoot(
  config: XfcConfig,
  env: Record<string, string | undefined>,
  dev: DevState | undefined,
  scanWorkerHere: boolean,
  add: Add,
): Promise<void> {
  const explicit = !!env.XFC_ROOT?.trim();
  const root = explicit ? config.scan.root : (dev?.root ?? config.scan.root);
  const why = explicit ? '' : dev ? ` (the root of xfc dev pid ${dev.pid})` : ' (XFC_ROOT unset: the default)';
  try {
    const info = await stat(root);
    if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const volumes = (await readdir(root)).filter((name) => /^vol/.test(name)).sort();
    let users = 0;
    const found: string[] = [];
    for (const volume of volumes) {
      try {
        const names = await readdir(join(root, volume, 'user_cache'));
        users += names.length;
        found.push(volume);
      } catch {
        // a vol* without user_cache is not a volume xfc scans
      }
    }
    if (found.length === 0) {
      add(
        'tree',
        'warn',
        `${root}${why}: no vol*/user_cache directories on this host`,
        `mount the volumes (scan workers need them), or \`${xfcCommand('demo')}\` for a demo tree`,
      );
    } else {
      add('tree', 'ok', `${root}${why}: ${found.join(', ')} with ${users} user director${users === 1 ? 'y' : 'ies'}`);
    }
  } catch (err) {
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    add(
      'tree',
      absent && !scanWorkerHere ? 'warn' : 'fail',
      `${root}${why}: ${errorMessage(err)}${absent && !scanWorkerHere ? ' (no scan worker of this host polls, so none needs it here)' : ''}`,
      explicit
        ? 'fix XFC_ROOT or mount the volumes'
        : 'set XFC_ROOT (xfc dev falls back to ./var/demo/xfc when /work/xfc is absent)',
    );
  }
}

/** Runs every check, the services side by side, and returns them in a fixed order. */
/**
 * Issue 13: users frozen by a last_scanned in the future (applied before results were checked), and scans that
 * ended with a permanent reason (a figure beyond the columns, a clock ahead, a row PostgreSQL refused) this week.
 */
async function checkScanIntegrity(config: XfcConfig, add: Add): Promise<void> {
  let reached = false;
  try {
    await withPool(
      config.databaseUrl,
      async (pool) => {
        const ready = await pool.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
          SELECT to_regclass('xfc_scan') IS NOT NULL AND to_regclass('xfc_control_user') IS NOT NULL AS ok`);
        reached = true;
        if (ready) await checkScanRows(pool, add); // else migrations pending: reported above
      },
      { maximumPoolSize: 1, connectionTimeoutMs: 5_000 },
    );
  } catch (err) {
    if (reached) throw err;
    // the reachability check above says why
  }
}

const failedRow = z.object({ reason: z.string(), scans: z.bigint(), users: z.string() });

async function checkScanRows(pool: DatabasePool, add: Add): Promise<void> {
  const future = await pool.anyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT u.name FROM xfc_user_state s JOIN xfc_control_user u ON u.id = s.user_id
    WHERE s.last_scanned > now() + ${`${clockSkewMs / 1000} seconds`}::interval ORDER BY u.name LIMIT 21`);
  if (future.length > 0) {
    const names = future.slice(0, 20).map((name) => printable(name));
    add(
      'last_scanned',
      'warn',
      `${future.length > 20 ? 'more than 20' : future.length} user(s) with last_scanned in the future ` +
        `(${names.join(', ')}): written before results were checked; treated as stale`,
      'nothing to do: the sweep claims them and their next scan writes the real time',
    );
  } else {
    add('last_scanned', 'ok', 'none in the future');
  }
  const failed = await pool.any(sql.type(failedRow)`
    SELECT failure_reason AS reason, count(*) AS scans, string_agg(DISTINCT username, ', ') AS users
    FROM xfc_scan
    WHERE status = 'failed' AND failure_reason = ANY(${sql.array([...permanentFailureReasons], 'text')})
      AND applied_at > now() - interval '7 days'
    GROUP BY failure_reason ORDER BY failure_reason`);
  if (failed.length > 0) {
    add(
      'permanent failures',
      'warn',
      failed
        .map((row) => `${printable(row.reason)}: ${row.scans} scan(s) of ${printable(row.users.slice(0, 200))}`)
        .join('; ') + ' in the last 7 days',
      '`npm run xfc -- users show <user>` shows the reason; out-of-range is usually huge sparse files',
    );
  } else {
    add('permanent failures', 'ok', 'no scan ended out-of-range, clock-ahead or unwritable in the last 7 days');
  }
}

export async function runDoctor(
  config: XfcConfig,
  env: Record<string, string | undefined> = process.env,
): Promise<Check[]> {
  const dev = readDevState(devPaths(config).stateFile);
  const areas: Array<[Check['area'], (add: Add) => Promise<void>]> = [
    ['PostgreSQL', (add) => checkPostgres(config, add)],
    ['PostgreSQL', (add) => checkScanIntegrity(config, add)],
    ['RabbitMQ', (add) => checkRabbitMq(config, add)],
    ['Temporal', (add) => checkTemporal(config, add, scanPollers)],
    ['SMTP', (add) => checkSmtp(config, dev, add)],
    ['Scans', (add) => checkScanFreshness(config, add)],
  ];
  const scanPollers: string[] = [];
  const guarded = async ([area, run]: [Check['area'], (add: Add) => Promise<void>]): Promise<Check[]> => {
    const checks: Check[] = [];
    try {
      await run(collector(area, checks));
    } catch (err) {
      checks.push({ area, name: 'unexpected error', status: 'fail', detail: errorMessage(err) });
    }
    return checks;
  };
  const results = await Promise.all(areas.map(guarded));
  // After Temporal: whether a scan worker runs on this host decides how much a missing root matters.
  const here = hostname();
  const scanWorkerHere = scanPollers.length === 0 || scanPollers.some((identity) => identity.endsWith(`@${here}`));
  results.push(await guarded(['XFC_ROOT', (add) => checkRoot(config, env, dev, scanWorkerHere, add)]));
  return results.flat();
}
