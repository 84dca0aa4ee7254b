import { Worker, type NativeConnection } from '@temporalio/worker';
import { createScanActivities } from '../activities/scan.js';
import type { XfcConfig } from '../lib/config/env.js';
import type { ScanMetrics } from '../activities/metrics.js';

export interface ScanWorkerDeps {
  config: XfcConfig;
  connection: NativeConnection;
  /** Aborted at the start of a graceful shutdown: running walks return their checkpoint. */
  draining: AbortSignal;
  metrics?: ScanMetrics;
}

/**
 * The scan worker (task queue XFC_SCAN_TASK_QUEUE, `xfc-scan` by default; one per volume if you like): walk
 * activities only, on a host that mounts the volumes read-only.
 */
export async function createScanWorker(deps: ScanWorkerDeps): Promise<Worker> {
  const { config, connection, draining, metrics } = deps;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.scanTaskQueue,
    activities: createScanActivities({ config, draining, metrics }),
    // Each walk already keeps many metadata requests in flight with its own threads.
    maxConcurrentActivityTaskExecutions: config.scan.maxConcurrentWalks,
    // Send heartbeats (checkpoints) to the server as often as walks make them, whatever the heartbeat timeout:
    // after a crash at most one interval of walking is redone.
    maxHeartbeatThrottleInterval: config.scan.heartbeatIntervalMs,
    // Walks stop within a second of being asked; give them that before the SDK cancels them.
    shutdownGraceTime: '20 seconds',
  });
}
