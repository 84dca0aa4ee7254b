import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import { backfillUsers, type BackfillReport } from '../../lib/backfill/index.js';
import { loadEmailFile } from '../../lib/backfill/emails.js';
import { UserError } from '../../lib/common/errors.js';
import { parseSize } from '../../lib/common/units.js';
import { redact, type XfcConfig } from '../../lib/config/env.js';
import { notificationHistory, type OutboxRow } from '../../db/notifications.js';
import { openPool, withPool, type DatabasePool } from '../../db/pool.js';
import { migrate } from '../../db/migrate.js';
import { explainDatabaseError } from '../commands/db.js';
import { ensureDatabase } from './database.js';
import { recentScans, type ScanRecord } from '../../db/scans.js';
import { listUsers, type UserUsage } from '../../db/users.js';
import { connectTemporal } from '../../lib/temporal/client.js';
import { applyWorkflowId } from '../../lib/temporal/names.js';
import { temporalConnectionOptions, temporalTls } from '../../lib/temporal/tls.js';
import { buildDemoTree, demoQuotas, demoUsers, type DemoTree } from './demo-tree.js';
import { startDevStack, type DevStack } from './dev-stack.js';
import { readDevState, type DevState } from './dev-state.js';
import { devPaths } from './paths.js';
import { pollersOf } from './pollers.js';
import { frontendAnswers } from './temporal-dev-server.js';
import { xfcCommand } from '../../lib/common/invocation.js';

/**
 * `xfc demo`: a small /work/xfc-like tree, its users registered from it (as after a data loss), a scan of each
 * through the whole pipeline (scan.request on RabbitMQ → bridge → scanUser → scan.completed → applyScan), and what
 * came of it: usage against quotas, and the emails. Uses a running `xfc dev` when there is one; otherwise runs the
 * same stack in this process for as long as it takes (or until Ctrl-C with --keep).
 */

export interface DemoOptions {
  config: XfcConfig;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Only build the tree (e.g. for docker compose, which mounts it). */
  treeOnly?: boolean;
  /** How long to wait for all scans to be applied. */
  timeoutMs?: number;
}

export interface DemoEmail {
  row: OutboxRow;
  /** The .eml file, when the mail went to the sink. */
  file?: string;
  /** Decided by one of this run's scans. */
  new: boolean;
}

export interface DemoOutcome {
  tree: DemoTree;
  /** How the pipeline was run: a running `xfc dev` (attached), or a stack started for the demo (own). */
  mode: 'attached' | 'own';
  /** The stack started for the demo; the caller stops it (or keeps it running). */
  stack?: DevStack;
  config: XfcConfig;
  ageBasis: string;
  backfill: BackfillReport;
  scans: ScanRecord[];
  users: UserUsage[];
  emails: DemoEmail[];
  mailDir?: string;
  elapsedMs: number;
}

/** Workers poll both task queues: something (normally `xfc dev`) is ready to run scans. */
async function workersRunning(config: XfcConfig): Promise<boolean> {
  const tls = temporalTls(config);
  if (!(await frontendAnswers(config.temporal.address, 2_000, tls))) return false;
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const { namespace, controlTaskQueue, scanTaskQueue } = config.temporal;
    const [control, scan] = await Promise.all([
      pollersOf(connection, namespace, controlTaskQueue, 'workflow'),
      pollersOf(connection, namespace, scanTaskQueue, 'activity'),
    ]);
    return control.length > 0 && scan.length > 0;
  } finally {
    await connection.close();
  }
}

const strangerRow = z.object({ name: z.string(), mountpoint: z.string().nullable() });

/** Users registered outside the demo tree: the sign of a real database, which the demo must not touch. */
async function usersOutside(pool: DatabasePool, root: string): Promise<Array<z.infer<typeof strangerRow>>> {
  const prefix = `${root}/`;
  const rows = await pool.any(sql.type(strangerRow)`
    SELECT u.name, d.mountpoint FROM xfc_control_user u LEFT JOIN xfc_control_cachedisk d ON d.id = u.cache_disk_id
    WHERE d.mountpoint IS NULL OR left(d.mountpoint, ${prefix.length}) <> ${prefix}
    ORDER BY u.id LIMIT 5`);
  return [...rows];
}

/** The demo quotas on the demo users, whatever registered them first (e.g. an earlier `xfc users backfill`). */
async function setDemoQuotas(pool: DatabasePool, root: string): Promise<void> {
  const prefix = `${root}/`;
  const names = demoUsers.map((user) => user.name);
  await pool.query(sql.unsafe`
    UPDATE xfc_control_user u SET quota_size = ${String(parseSize(demoQuotas.temporal))},
                                  hard_limit_size = ${String(parseSize(demoQuotas.hard))}
    FROM xfc_control_cachedisk d
    WHERE d.id = u.cache_disk_id AND left(d.mountpoint, ${prefix.length}) = ${prefix}
      AND u.name = ANY(${sql.array(names, 'text')})`);
}

/** The .eml file of each Message-ID in the sink's directory. */
function mailFiles(dir: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (!dir) return found;
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.eml'));
  } catch {
    return found;
  }
  for (const name of names) {
    const path = join(dir, name);
    const header = /^Message-ID:\s*(<[^>]+>)/im.exec(readFileSync(path, 'utf8').slice(0, 16_384));
    if (header?.[1]) found.set(header[1], path);
  }
  return found;
}

async function waitForScans(
  pool: DatabasePool,
  client: Client,
  since: Date,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<ScanRecord[]> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, ScanRecord>();
  while (done.size < demoUsers.length) {
    for (const user of demoUsers) {
      if (done.has(user.name)) continue;
      // Applied after our request was published: our scan, or a scan already running that our request joined.
      const [latest] = await recentScans(pool, user.name, 1);
      if (latest && latest.appliedAt >= since) {
        // The application ends with the email decided and, if any, sent.
        await client.workflow.getHandle(applyWorkflowId(latest.scanId)).result();
        done.set(user.name, latest);
        log(`  ${user.name.padEnd(6)} scanned: ${latest.status}, applied ${latest.appliedAt.toISOString()}`);
      }
    }
    if (done.size === demoUsers.length) break;
    if (Date.now() > deadline) {
      const missing = demoUsers.filter((user) => !done.has(user.name)).map((user) => user.name);
      throw new UserError(
        `The scans of ${missing.join(', ')} were not applied within ${timeoutMs / 1000} s. Is a scan worker ` +
          `running and the bridge consuming? \`${xfcCommand('doctor')}\` checks; ` +
          `\`${xfcCommand(`workflow status scan ${missing[0]}`)}\` shows where the scan is.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return demoUsers.map((user) => done.get(user.name)).filter((scan): scan is ScanRecord => !!scan);
}

export async function runDemo(options: DemoOptions): Promise<DemoOutcome | { tree: DemoTree }> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const log = options.log ?? console.log;
  const paths = devPaths(options.config);
  const tree = buildDemoTree(paths.demoRoot, join(paths.varDir, 'demo', 'emails.csv'));
  log(
    `Demo tree ${paths.demoRoot}: ${demoUsers.length} users on vol1 and vol2` +
      (tree.written > 0 ? ` (${tree.written} files written)` : ' (already there; file ages set again)'),
  );
  if (options.treeOnly) return { tree };

  // The database first (created and migrated if need be): the demo adds users to a development database only.
  await explainDatabaseError(options.config.databaseUrl, async () => {
    await ensureDatabase(options.config.databaseUrl);
    await migrate(options.config.databaseUrl);
    const strangers = await withPool(options.config.databaseUrl, (pool) => usersOutside(pool, paths.demoRoot));
    if (strangers.length > 0) {
      throw new UserError(
        `The database ${redact(options.config.databaseUrl)} holds users outside the demo tree (${strangers
          .map((s) => `${s.name} on ${s.mountpoint ?? '?'}`)
          .join(', ')}${strangers.length === 5 ? ', …' : ''}). The demo adds users only to a development ` +
          'database: point XFC_DATABASE_URL at another one (the demo creates it), e.g. ' +
          'XFC_DATABASE_URL=postgres://postgres@127.0.0.1:5432/xfc_demo npm run demo',
      );
    }
  });

  // A running `xfc dev` (or other workers) is used as it is; otherwise the demo runs the stack itself.
  const running: DevState | undefined = readDevState(paths.stateFile);
  let mode: DemoOutcome['mode'];
  let stack: DevStack | undefined;
  let config: XfcConfig;
  let mailDir: string | undefined;
  if (await workersRunning(options.config)) {
    mode = 'attached';
    if (running && resolve(running.root) !== paths.demoRoot && !paths.demoRoot.startsWith(`${running.root}/`)) {
      throw new UserError(
        `The running xfc dev (pid ${running.pid}) scans under ${running.root}, not the demo tree ${paths.demoRoot}: ` +
          'its scans of the demo users would be refused. Stop it (Ctrl-C) and run the demo alone, or restart it ' +
          `with XFC_ROOT=${paths.demoRoot}.`,
      );
    }
    if (running && running.databaseUrl !== redact(options.config.databaseUrl)) {
      throw new UserError(
        `The running xfc dev uses the database ${running.databaseUrl}, the demo ${redact(options.config.databaseUrl)}: ` +
          'run the demo with the same XFC_DATABASE_URL.',
      );
    }
    config = {
      ...options.config,
      temporal: { ...options.config.temporal, uiUrl: running?.temporalUiUrl ?? options.config.temporal.uiUrl },
    };
    mailDir = running?.mailDir;
    log(
      running
        ? `Using the running xfc dev (pid ${running.pid}; Temporal ${running.temporalAddress}).`
        : `Using the workers already polling ${config.temporal.controlTaskQueue} and ${config.temporal.scanTaskQueue} at ${config.temporal.address}.`,
    );
  } else {
    mode = 'own';
    const ageBasisGiven = !!env.XFC_AGE_BASIS?.trim();
    const demoConfig: XfcConfig = {
      ...options.config,
      scan: {
        ...options.config.scan,
        root: paths.demoRoot,
        // Only modification times can be set to the past: see cli/ops/demo-tree.ts.
        ageBasis: ageBasisGiven ? options.config.scan.ageBasis : 'mtime',
      },
    };
    log('No xfc dev is running: starting the stack in this process (as `xfc dev` would) …');
    stack = await startDevStack({
      config: demoConfig,
      env: { ...env, XFC_ROOT: paths.demoRoot },
      // The pipeline at work: the bridge starting workflows, the sink storing mail.
      log: (line) => {
        if (line.startsWith('bridge: workflow') || line.startsWith('mail:')) log(`    ${line}`);
      },
    });
    config = stack.config;
    mailDir = stack.mail.dir;
  }

  try {
    const client = stack?.client ?? (await connectTemporal(config));
    const pool = await openPool(config.databaseUrl);
    try {
      const backfill = await backfillUsers(pool, {
        root: paths.demoRoot,
        exclude: [],
        temporalQuota: parseSize(demoQuotas.temporal),
        hardQuota: parseSize(demoQuotas.hard),
        emails: await loadEmailFile(tree.emailsFile),
        notify: true,
        dryRun: false,
      });
      await setDemoQuotas(pool, paths.demoRoot);
      log(
        backfill.summary.created > 0
          ? `Registered ${backfill.created.map((u) => `${u.username} (${u.volume})`).join(', ')} from the tree ` +
              `(as \`xfc users backfill --emails ${tree.emailsFile}\` does), quotas hard ${demoQuotas.hard}, ` +
              `temporal ${demoQuotas.temporal}·day.`
          : `Users already registered (${backfill.summary.present}); quotas hard ${demoQuotas.hard}, temporal ${demoQuotas.temporal}·day.`,
      );

      const since = new Date();
      for (const user of demoUsers) await requestScanViaQueue(config, user.name, 'manual');
      log(`Published ${demoUsers.length} scan.request messages on RabbitMQ; waiting for the scans to be applied …`);
      const scans = await waitForScans(pool, client, since, options.timeoutMs ?? 120_000, log);

      const names = new Set<string>(demoUsers.map((user) => user.name));
      const users = (await listUsers(pool)).filter((user) => names.has(user.username));
      const ours = new Set(scans.map((scan) => scan.scanId));
      const files = mailFiles(mailDir);
      const emails: DemoEmail[] = [];
      for (const user of users) {
        for (const row of await notificationHistory(pool, user.userId, 5)) {
          const file = files.get(row.messageId);
          emails.push({ row, new: ours.has(row.scanId), ...(file && { file }) });
        }
      }
      return {
        tree,
        mode,
        ...(stack && { stack }),
        config,
        ageBasis: scans[0]?.ageBasis ?? config.scan.ageBasis,
        backfill,
        scans,
        users,
        emails,
        ...(mailDir && { mailDir }),
        elapsedMs: Date.now() - started,
      };
    } finally {
      await pool.end();
      if (!stack) await client.connection.close();
    }
  } catch (err) {
    await stack?.stop();
    throw err;
  }
}
