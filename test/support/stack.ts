import { rmSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { loadConfig, type XfcConfig } from '../../lib/config/env.js';
import { migrate } from '../../db/migrate.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { connectTemporal } from '../../lib/temporal/client.js';
import { startWorkers, type RunningWorkers, type WorkerRole } from '../../workers/run.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { scratchDir } from './scratch.js';
import { createTestVhost, type TestVhost } from './rabbitmq.js';
import { startTestTemporal, type TestTemporal, type TestTemporalOptions } from './temporal.js';

/** The key test stacks sign results with (XFC_RESULT_SIGNING_KEY): a publisher given it publishes as xfc does. */
export const testSigningKey = 'test-result-signing-key-0123456789abcdef';

/** The real services a test or fault scenario gets of its own, and the configuration that points at them. */
export interface StackServices {
  config: XfcConfig;
  /** The environment the stack's config was read from: pass it to child processes (`xfc worker`, …). */
  env: Record<string, string>;
  /** XFC_ROOT: users' work directories go under `<root>/<volume>/user_cache/<name>`. */
  root: string;
  db: TestDatabase;
  vhost: TestVhost;
  temporal: TestTemporal;
  pool: DatabasePool;
  client: Client;
}

export interface TestStack extends StackServices {
  /** Starts in-process workers of a role (stopped by `stop()`). */
  startWorkers(role: WorkerRole): Promise<RunningWorkers>;
  stop(): Promise<void>;
}

/**
 * Everything real for one test file: its own Postgres database (migrated), RabbitMQ vhost, Temporal server (or
 * namespace: XFC_TEST_TEMPORAL) and XFC_ROOT directory. `env` overrides configuration (e.g. short heartbeat timeouts).
 */
export async function startTestStack(
  env: Record<string, string> = {},
  temporalOptions: TestTemporalOptions = {},
): Promise<TestStack> {
  const root = scratchDir('xfc-root');
  const [db, vhost, temporal] = await Promise.all([
    createTestDatabase(),
    createTestVhost(),
    startTestTemporal(temporalOptions),
  ]);
  const fullEnv: Record<string, string> = {
    XFC_DATABASE_URL: db.url,
    XFC_AMQP_URL: vhost.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    XFC_ROOT: root,
    XFC_METRICS_PORT: '0',
    XFC_TEMPORAL_METRICS_PORT: '0',
    XFC_SMTP_URL: 'smtp://127.0.0.1:2',
    XFC_LOG_LEVEL: 'warn',
    XFC_RESULT_SIGNING_KEY: testSigningKey,
    ...env,
  };
  const config = loadConfig(fullEnv);
  await migrate(db.url);
  const pool = await openPool(db.url);
  const client = await connectTemporal(config);
  const running: RunningWorkers[] = [];
  return {
    config,
    env: fullEnv,
    root,
    db,
    vhost,
    temporal,
    pool,
    client,
    startWorkers: async (role) => {
      const workers = await startWorkers(config, role, () => undefined);
      running.push(workers);
      return workers;
    },
    stop: async () => {
      await Promise.all(running.map((workers) => workers.stop()));
      await client.connection.close();
      await pool.end();
      await temporal.stop();
      await Promise.all([db.drop(), vhost.delete()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
