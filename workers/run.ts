import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createLogger } from '../lib/common/log.js';
import { temporalLogger } from './temporal-logger.js';
import { createPublisher } from '../lib/amqp/publisher.js';
import { declareTopology } from '../lib/amqp/topology.js';
import type { XfcConfig } from '../lib/config/env.js';
import { migrate } from '../db/migrate.js';
import { openPool } from '../db/pool.js';
import { connectTemporal } from '../lib/temporal/client.js';
import { applySweepSchedule } from '../lib/temporal/schedule.js';
import { temporalConnectionOptions } from '../lib/temporal/tls.js';
import { createControlWorker } from './control.js';
import { XfcMetrics, unscannedWithinDays } from './metrics.js';
import { DeadLetterCounter } from './dead-letter-count.js';
import { readFleetHealth } from '../db/fleet-health.js';
import { createScanWorker } from './scan.js';

export const workerRoles = ['control', 'scan', 'all'] as const;
export type WorkerRole = (typeof workerRoles)[number];

export interface RunningWorkers {
  /** Settles when every worker has stopped. */
  done: Promise<void>;
  /** Graceful stop: walks return their checkpoints, in-flight tasks finish, connections close. */
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * The workers' own lines (started, migrations applied, schedule, stopping) as records of the one logger. They are
 * few and say what the process is, so they are written whatever XFC_LOG_LEVEL is (as before, and what supervisors
 * and the tests wait for); the level governs the Temporal runtime's records.
 */
function workerLog(config: XfcConfig): (line: string) => void {
  const logger = createLogger({
    component: 'worker',
    level: 'info',
    ...(config.logFormat && { format: config.logFormat }),
  });
  return (line) => logger.info(line);
}

/**
 * The Temporal runtime is per process: its Prometheus endpoint is configured once, and it must not install its own
 * signal handlers, because a graceful stop starts by asking walks to checkpoint (see `stop`).
 */
function installRuntime(config: XfcConfig): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const port = config.metrics.temporalPort;
  Runtime.install({
    shutdownSignals: [],
    // The SDK's and the core's logs go through xfc's one logger: JSON lines (or readable in a terminal), redacted.
    logger: temporalLogger(
      createLogger({
        component: 'worker',
        level: config.logLevel,
        ...(config.logFormat && { format: config.logFormat }),
      }),
    ),
    ...(port ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${port}` } } } } : {}),
  });
}

/**
 * Starts the workers of a role. The control role first migrates the database, declares the RabbitMQ topology and
 * creates or updates the sweep schedule, so a fresh deployment needs nothing else.
 */
export async function startWorkers(
  config: XfcConfig,
  role: WorkerRole,
  log: (line: string) => void = workerLog(config),
): Promise<RunningWorkers> {
  installRuntime(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const metrics = new XfcMetrics();
  const metricsServer = await metrics.serve(config.metrics.port);
  const draining = new AbortController();
  const workers: Worker[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  if (role === 'control' || role === 'all') {
    const { applied } = await migrate(config.databaseUrl);
    if (applied.length > 0) log(`database: applied migrations ${applied.join(', ')}`);
    await declareTopology(config.amqpUrl, config.amqpTopology);
    const pool = await openPool(config.databaseUrl);
    const publisher = createPublisher(config.amqpUrl, {
      role: 'control',
      topology: config.amqpTopology,
      signingKey: config.resultSigningKey,
    });
    cleanups.push(
      () => publisher.close(),
      () => pool.end(),
    );
    const client = await connectTemporal(config);
    const schedule = await applySweepSchedule(client, config);
    log(`schedule ${schedule.scheduleId}: ${schedule.created ? 'created' : 'updated'} (every ${schedule.every})`);
    await client.connection.close();
    // The outcome gauges (users unscanned, over quota, last sweep, dead letters) are computed on scrape.
    const deadLetters = new DeadLetterCounter(config.amqpUrl);
    cleanups.push(() => deadLetters.close());
    metrics.attachOutcomeSources({
      fleetHealth: () =>
        readFleetHealth(pool, {
          now: new Date(),
          warnPercent: config.notify.warnPercent,
          overPercent: config.notify.overPercent,
          withinDays: unscannedWithinDays,
        }),
      deadLetters: () => deadLetters.count(),
      maxAgeMs: config.metrics.databaseGaugesMaxAgeMs,
    });
    workers.push(await createControlWorker({ config, connection, pool, publisher, metrics }));
    log(`control worker: task queue ${config.temporal.controlTaskQueue}`);
  }
  if (role === 'scan' || role === 'all') {
    workers.push(await createScanWorker({ config, connection, draining: draining.signal, metrics }));
    log(`scan worker: task queue ${config.temporal.scanTaskQueue}, XFC_ROOT ${config.scan.root}`);
  }
  if (config.metrics.port) log(`metrics: http://127.0.0.1:${config.metrics.port}/metrics`);

  const done = Promise.all(workers.map((worker) => worker.run())).then(async () => {
    for (const cleanup of cleanups) await cleanup();
    await connection.close();
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
  });
  return {
    done,
    stop: async () => {
      draining.abort();
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
