import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { startBridge, type Bridge } from '../../lib/amqp/bridge.js';
import { AmqpConnectError } from '../../lib/amqp/connection.js';
import type { LogFields, LogLevel, Logger } from '../../lib/amqp/log.js';
import { declareTopology } from '../../lib/amqp/topology.js';
import { explainDatabaseError } from '../commands/db.js';
import { UserError, errorMessage } from '../../lib/common/errors.js';
import { redact, type XfcConfig } from '../../lib/config/env.js';
import { migrate } from '../../db/migrate.js';
import { openPool } from '../../db/pool.js';
import { verifyScanResult } from '../../db/scan-authority.js';
import { startSmtpSink, type SmtpSink } from '../../lib/notify/smtp-sink.js';
import { connectTemporal } from '../../lib/temporal/client.js';
import { sweepScheduleId } from '../../lib/temporal/names.js';
import { temporalTls } from '../../lib/temporal/tls.js';
import { startWorkers, type RunningWorkers } from '../../workers/run.js';
import { ensureDatabase } from './database.js';
import { orphanedTemporal, removeDevState, stopProcess, writeDevState, type DevState } from './dev-state.js';
import { devPaths, devRoot } from './paths.js';
import { ensureSearchAttributes } from './search-attribute.js';
import {
  findTemporalCli,
  frontendAnswers,
  startDevServer,
  temporalCliMissing,
  type DevServer,
} from './temporal-dev-server.js';

/**
 * The whole service in one process for development (`xfc dev`, and `xfc demo` when nothing runs yet): the database
 * created and migrated, the RabbitMQ topology declared, a Temporal server (the one at TEMPORAL_ADDRESS, or a dev
 * server started here with its state under XFC_VAR_DIR), both workers, the bridge and the sweep schedule, and, when
 * XFC_SMTP_URL is unset, a mail sink that keeps every message as a file.
 */

export interface DevStackOptions {
  config: XfcConfig;
  /** The environment the config came from: tells a setting given explicitly from a default. */
  env?: Record<string, string | undefined>;
  /** Progress lines for a person. */
  log?: (line: string) => void;
  /** Publish XFC_VAR_DIR/dev.json so that `xfc demo` and `xfc doctor` find this stack (default true). */
  publishState?: boolean;
}

export interface DevStack {
  /** The configuration the stack runs with (Web UI URL, SMTP URL and root as resolved here). */
  config: XfcConfig;
  temporal: { address: string; uiUrl: string; startedHere: boolean; pid?: number; dbFile?: string };
  mail: { url: string; dir?: string };
  root: { path: string; note?: string };
  database: { created: boolean; applied: string[] };
  schedule: string;
  client: Client;
  bridge: Bridge;
  /** Settles if the workers stop by themselves (a fatal worker error). */
  done: Promise<void>;
  /** Stops everything in order: bridge, workers (walks checkpoint), mail sink, then the dev server if started here. */
  stop(): Promise<void>;
}

const localHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new UserError(`TEMPORAL_ADDRESS=${address} is not host:port.`);
  }
  return { host: address.slice(0, at), port };
}

/** Bridge events as short lines for a terminal (the JSON lines of `xfc bridge` are for log collectors). */
export function terminalLogger(component: string, write: (line: string) => void): Logger {
  return (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (level === 'debug') return;
    const detail = Object.entries(fields)
      .filter(([key, value]) => value !== undefined && !['queue', 'deliveryCount', 'runId', 'type'].includes(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    write(`${component}: ${level === 'info' ? '' : `${level.toUpperCase()} `}${event}${detail ? ` ${detail}` : ''}`);
  };
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? console.log;
  const paths = devPaths(options.config);
  const cleanups: Array<() => Promise<void>> = [];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };

  try {
    // 1. The root to scan.
    const root = devRoot(options.config, env);
    // The demo tree's place is ours to create; a root someone named (e.g. an unmounted /work/xfc) is not.
    if (root.note) mkdirSync(root.path, { recursive: true });
    else if (!existsSync(root.path)) log(`XFC_ROOT ${root.path} does not exist: scans will be refused until it does.`);

    // 2. PostgreSQL: create the database if needed, migrate.
    const { databaseUrl } = options.config;
    const database = await explainDatabaseError(databaseUrl, async () => {
      const { created } = await ensureDatabase(databaseUrl);
      const { applied } = await migrate(databaseUrl);
      return { created, applied };
    });

    // 3. RabbitMQ: the topology (or a check of it, with XFC_AMQP_TOPOLOGY=check).
    try {
      await declareTopology(options.config.amqpUrl, options.config.amqpTopology);
    } catch (err) {
      if (err instanceof AmqpConnectError) {
        throw new UserError(`${err.message}. Start RabbitMQ, or set XFC_AMQP_URL.`);
      }
      throw err;
    }

    // 4. Temporal: the server at TEMPORAL_ADDRESS, or a dev server started here.
    const address = options.config.temporal.address;
    const { host, port } = splitAddress(address);
    const uiExplicit = !!env.XFC_TEMPORAL_UI_URL?.trim();
    let uiUrl = options.config.temporal.uiUrl;
    let server: DevServer | undefined;
    let adoptedPid: number | undefined;
    const tls = temporalTls(options.config);
    if (!(await frontendAnswers(address, 3_000, tls))) {
      if (!localHosts.has(host)) {
        throw new UserError(
          `No Temporal server answers at TEMPORAL_ADDRESS=${address}. Start it, or unset TEMPORAL_ADDRESS so that ` +
            '`xfc dev` runs a local dev server.',
        );
      }
      const executable = findTemporalCli(env);
      if (!executable) throw new UserError(temporalCliMissing);
      const uiPort = uiExplicit ? Number(new URL(uiUrl).port || 80) : port + 1000;
      mkdirSync(dirname(paths.temporalDb), { recursive: true });
      let output = '';
      try {
        server = await startDevServer({
          executable,
          port,
          uiPort,
          dbFile: paths.temporalDb,
          namespace: options.config.temporal.namespace,
          detached: true,
          onOutput: (chunk) => (output = (output + chunk.toString()).slice(-2000)),
        });
      } catch (err) {
        throw new UserError(
          `Could not start the Temporal dev server (${executable}) on port ${port}, Web UI port ${uiPort}: ` +
            `${errorMessage(err)}. Is one of the ports taken?${output ? `\nIts last output:\n${output.trim()}` : ''}`,
        );
      }
      const started = server;
      cleanups.push(() => started.stop());
      if (!uiExplicit) uiUrl = `http://127.0.0.1:${uiPort}`;
    } else {
      if (!uiExplicit && localHosts.has(host)) uiUrl = `http://127.0.0.1:${port + 1000}`;
      const orphan = orphanedTemporal(paths.stateFile, paths.temporalDb);
      if (orphan !== undefined) {
        log(`Temporal: adopting the dev server (pid ${orphan}) that an earlier xfc dev left running`);
        adoptedPid = orphan;
        cleanups.push(() => stopProcess(orphan));
      }
      const connection = await Connection.connect({ address, tls: tls ?? false });
      try {
        for (const { name, state } of await ensureSearchAttributes(connection, options.config.temporal.namespace)) {
          if (state === 'added') log(`Temporal: registered the search attribute ${name} (Keyword) on ${address}`);
          if (state === 'wrong-type') {
            throw new UserError(
              `The search attribute ${name} on ${address} is not of type Keyword; scans cannot be tagged with it.`,
            );
          }
        }
      } finally {
        await connection.close();
      }
    }

    // 5. Mail: the configured SMTP server, or a sink that keeps each message as a file.
    let sink: SmtpSink | undefined;
    if (!options.config.mail.smtpUrlExplicit) {
      sink = await startSmtpSink({ dir: paths.mailDir, onMessage: (file) => log(`mail: stored ${file}`) });
      const started = sink;
      cleanups.push(() => started.close());
    }

    const config: XfcConfig = {
      ...options.config,
      // The workers' INFO lines (bundling, state changes) drown what a person wants to see here.
      logLevel: env.XFC_LOG_LEVEL?.trim() ? options.config.logLevel : 'warn',
      temporal: { ...options.config.temporal, uiUrl },
      mail: { ...options.config.mail, smtpUrl: sink?.url ?? options.config.mail.smtpUrl },
      scan: { ...options.config.scan, root: root.path },
    };

    // 6. Workers (they migrate and declare again, finding nothing to do, and apply the schedule), then the bridge.
    let schedule = sweepScheduleId;
    let workers: RunningWorkers;
    try {
      workers = await startWorkers(config, 'all', (line: string) => {
        if (line.startsWith(`schedule ${sweepScheduleId}`)) schedule = line.slice('schedule '.length);
        else if (!line.startsWith('metrics:')) log(line);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UserError(
          `A metrics port is taken (${errorMessage(err)}): is another xfc running? Set XFC_METRICS_PORT and ` +
            'XFC_TEMPORAL_METRICS_PORT to free ports, or 0 to turn them off.',
        );
      }
      throw err;
    }
    const running = workers;
    cleanups.push(() => running.stop());
    const client = await connectTemporal(config);
    cleanups.push(() => client.connection.close());
    const bridgePool = await openPool(config.databaseUrl, { maximumPoolSize: 2 });
    cleanups.push(() => bridgePool.end());
    const bridge = startBridge({
      config,
      temporalClient: client,
      logger: terminalLogger('bridge', log),
      verifyResult: (claims) => verifyScanResult(bridgePool, claims),
    });
    cleanups.push(() => bridge.stop());
    await bridge.ready;

    const temporalPid = server?.process.pid ?? adoptedPid;
    const state: DevState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      temporalAddress: address,
      temporalUiUrl: uiUrl,
      ...(temporalPid !== undefined && { temporalPid }),
      smtpUrl: config.mail.smtpUrl,
      ...(sink && { mailDir: sink.dir }),
      root: root.path,
      ageBasis: config.scan.ageBasis,
      databaseUrl: redact(config.databaseUrl),
      amqpUrl: redact(config.amqpUrl),
    };
    if (options.publishState ?? true) {
      writeDevState(paths.stateFile, state);
      cleanups.push(() => Promise.resolve(removeDevState(paths.stateFile)));
    }

    let stopping: Promise<void> | undefined;
    return {
      config,
      temporal: {
        address,
        uiUrl,
        startedHere: temporalPid !== undefined,
        ...(temporalPid !== undefined && { pid: temporalPid, dbFile: paths.temporalDb }),
      },
      mail: { url: config.mail.smtpUrl, ...(sink && { dir: sink.dir }) },
      root,
      database,
      schedule,
      client,
      bridge,
      done: running.done,
      stop: () => (stopping ??= undo()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
