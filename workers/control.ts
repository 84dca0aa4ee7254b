import { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createControlActivities } from '../activities/control.js';
import { createNotifyActivities } from '../activities/notify.js';
import { withPermanentFailures } from '../activities/permanent-failures.js';
import type { Publisher } from '../lib/amqp/publisher.js';
import type { XfcConfig } from '../lib/config/env.js';
import type { DatabasePool } from '../db/pool.js';
import type { XfcMetrics } from './metrics.js';
import { workflowCodeOptions } from './workflow-code.js';

export interface ControlWorkerDeps {
  config: XfcConfig;
  connection: NativeConnection;
  pool: DatabasePool;
  publisher: Publisher;
  metrics?: XfcMetrics;
}

/** The `xfc-control` worker: every workflow, plus the database, messaging and mail activities. */
export async function createControlWorker(deps: ControlWorkerDeps): Promise<Worker> {
  const { config, connection, pool, publisher, metrics } = deps;
  // The worker's own connection also serves its activities' client calls (starting applications).
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.controlTaskQueue,
    ...workflowCodeOptions(),
    // A database error no retry can fix ends the activity instead of retrying it forever.
    activities: withPermanentFailures({
      ...createControlActivities({ pool, publisher, config, temporal, metrics }),
      ...createNotifyActivities({ pool, config, ...(metrics ? { metrics } : {}) }),
    }),
  });
}
