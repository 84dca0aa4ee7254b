import { rmSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { declareTopology } from '../../../lib/amqp/topology.js';
import { loadConfig } from '../../../lib/config/env.js';
import { migrate } from '../../../db/migrate.js';
import { openPool } from '../../../db/pool.js';
import { connectTemporal } from '../../../lib/temporal/client.js';
import { sweepScheduleId } from '../../../lib/temporal/names.js';
import { createTestDatabase } from '../../support/postgres.js';
import { createTestVhost } from '../../support/rabbitmq.js';
import { scratchDir } from '../../support/scratch.js';
import { startTestSmtp, type TestSmtpOptions, type TestSmtpServer } from '../../support/smtp.js';
import { testSigningKey, type StackServices } from '../../support/stack.js';
import { startTestTemporal, type TestTemporalKind } from '../../support/temporal.js';
import { startXfc, type Role, type RunAs, type XfcChild } from './processes.js';

export interface FaultStackOptions {
  /** XFC_* overrides for every process (heartbeat interval, batch size…). */
  env?: Record<string, string>;
  /** Run an SMTP server in this process (with these options) and point XFC_SMTP_URL at it. */
  smtp?: boolean | TestSmtpOptions;
  /**
   * Where the Temporal server keeps its SQLite file. By default on tmpfs: the file survives server restarts all the
   * same, and on this machine's disk the dev server's SQLite writes, not xfc, would limit every measurement (a
   * 300-user run: 104 scans/minute with the file on disk, 270 on tmpfs).
   */
  temporalDbDir?: string;
  /** A Temporal server of the scenario's own even on the test run's shared real server (to restart it, or measure it). */
  ownTemporal?: boolean;
  /** dev or server, overriding XFC_TEST_TEMPORAL. */
  temporalKind?: TestTemporalKind;
}

export interface FaultStack extends StackServices {
  smtp: TestSmtpServer | undefined;
  /** Starts `xfc worker --role control|scan` or `xfc bridge` as a child process and waits until it is up. */
  start(role: Role, options?: { runAs?: RunAs; env?: Record<string, string> }): Promise<XfcChild>;
  /** Every process started so far (dead ones too). */
  processes: XfcChild[];
  stop(): Promise<void>;
}

/**
 * Everything real, and of its own, for one scenario: a Postgres database (migrated), a RabbitMQ vhost (topology
 * declared), a Temporal dev server child, an XFC_ROOT on tmpfs and optionally an SMTP server. The sweep schedule is
 * paused whenever a control worker (re)creates it, so only the sweeps a scenario starts run.
 */
export async function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const root = scratchDir('xfc-faults-root');
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(root, { recursive: true, force: true })];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  try {
    const smtp = options.smtp ? await startTestSmtp(options.smtp === true ? {} : options.smtp) : undefined;
    if (smtp) cleanups.push(() => smtp.stop());
    const db = await createTestDatabase('xfc_faults');
    cleanups.push(() => db.drop());
    const vhost = await createTestVhost('xfc-faults');
    cleanups.push(() => vhost.delete());
    const temporal = await startTestTemporal({
      ...(options.temporalDbDir ? { parentDir: options.temporalDbDir } : {}),
      ownServer: options.ownTemporal ?? false,
      ...(options.temporalKind ? { kind: options.temporalKind } : {}),
    });
    cleanups.push(() => temporal.stop());
    const env: Record<string, string> = {
      XFC_DATABASE_URL: db.url,
      XFC_AMQP_URL: vhost.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      XFC_ROOT: root,
      XFC_METRICS_PORT: '0',
      XFC_TEMPORAL_METRICS_PORT: '0',
      XFC_LOG_LEVEL: 'warn',
      XFC_SMTP_URL: smtp ? smtp.url : 'smtp://127.0.0.1:2',
      XFC_MAIL_FROM: 'JASMIN XFC <xfc@example.org>',
      // The schedule is paused below; a long interval keeps it from firing even before that.
      XFC_SWEEP_INTERVAL: '24h',
      XFC_RESULT_SIGNING_KEY: testSigningKey,
      ...options.env,
    };
    const config = loadConfig(env);
    await migrate(db.url);
    await declareTopology(vhost.url);
    const pool = await openPool(db.url, { maximumPoolSize: 10 });
    cleanups.push(() => pool.end());
    const client = await connectTemporal(config);
    cleanups.push(() => client.connection.close());
    const processes: XfcChild[] = [];
    cleanups.push(async () => {
      await Promise.all(processes.map((p) => p.stop(10_000)));
    });

    return {
      config,
      env,
      root,
      db,
      vhost,
      temporal,
      smtp,
      pool,
      client,
      processes,
      start: async (role, startOptions = {}) => {
        // The bridge's info records are what scenarios read (its readiness, what it published and settled); the
        // warn level above is for the workers' Temporal runtime, whose info lines nobody here reads.
        const roleEnv: Record<string, string> = role === 'bridge' ? { XFC_LOG_LEVEL: 'info' } : {};
        const child = await startXfc(role, { ...env, ...roleEnv, ...startOptions.env }, startOptions);
        processes.push(child);
        if (role === 'control') await pauseSweepSchedule(client);
        return child;
      },
      stop: undo,
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** The control worker creates or updates the schedule at start-up; scenarios start their own sweeps. */
async function pauseSweepSchedule(client: Client): Promise<void> {
  const handle = client.schedule.getHandle(sweepScheduleId);
  const description = await handle.describe();
  if (!description.state.paused) await handle.pause('fault scenario: only the sweeps it starts');
}
