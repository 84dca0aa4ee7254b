import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ScanProgress, WalkHeartbeat } from '../activities/scan.js';
import type { XfcConfig } from '../lib/config/env.js';
import { xfcCommand } from '../lib/common/invocation.js';
import { pollersOf } from './ops/pollers.js';
import type { ScanProgressView } from '../workflows/scan-user.js';
import { formatProgressLine } from './scan-output.js';

/**
 * `xfc workflow start scan --wait`: while the scan runs, the same live line `xfc scan` draws (from the walk's latest
 * heartbeat, else the workflow's `progress` query), and a warning when no worker polls a queue the scan needs —
 * without one it would wait silently forever.
 */

const pollMs = 2_000;
const pollerCheckMs = 30_000;

/** The walk's progress now: the running chunk's last heartbeat (every few seconds), else the last finished chunk. */
export async function currentScanProgress(
  client: Client,
  workflowId: string,
  description: WorkflowExecutionDescription,
): Promise<ScanProgress | null> {
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (activity.activityType?.name === 'walkChunk' && payload) {
      return defaultPayloadConverter.fromPayload<WalkHeartbeat>(payload).progress;
    }
  }
  const view = await client.workflow.getHandle(workflowId).query<ScanProgressView | null>('progress');
  return view?.progress ?? null;
}

/** What is missing for the scan to make progress, as a sentence, or null when workers poll both queues. */
export async function missingWorkers(client: Client, config: Pick<XfcConfig, 'temporal'>): Promise<string | null> {
  const { namespace, controlTaskQueue, scanTaskQueue } = config.temporal;
  const [control, scan] = await Promise.all([
    pollersOf(client.connection, namespace, controlTaskQueue, 'workflow'),
    pollersOf(client.connection, namespace, scanTaskQueue, 'activity'),
  ]);
  const missing: string[] = [];
  if (control.length === 0) {
    missing.push(`no control worker polls ${controlTaskQueue} (start \`${xfcCommand('worker --role control')}\`)`);
  }
  if (scan.length === 0) {
    missing.push(
      `no scan worker polls ${scanTaskQueue} (start \`${xfcCommand('worker --role scan')}\` on a host that mounts the volumes)`,
    );
  }
  return missing.length === 0 ? null : `The scan waits: ${missing.join('; ')}.`;
}

/** Follows a running scan until it ends, drawing progress on stderr when it is a terminal. */
export async function watchScan(
  client: Client,
  config: Pick<XfcConfig, 'temporal'>,
  workflowId: string,
): Promise<void> {
  const draw = process.stderr.isTTY === true;
  let warned = false;
  let lastPollerCheck = 0;
  try {
    for (;;) {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (description.status.name !== 'RUNNING') return;
      if (Date.now() - lastPollerCheck >= pollerCheckMs) {
        lastPollerCheck = Date.now();
        const missing = await missingWorkers(client, config).catch(() => null);
        if (missing && !warned) {
          if (draw) process.stderr.write('\r\x1b[2K');
          process.stderr.write(`xfc: warning: ${missing}\n`);
        }
        warned = missing !== null;
      }
      if (draw) {
        const progress = await currentScanProgress(client, workflowId, description).catch(() => null);
        if (progress) {
          const line = formatProgressLine(
            { ...progress, bytes: BigInt(progress.bytes), temporalByteDays: BigInt(progress.temporalByteDays) },
            process.stderr.columns || 80,
          );
          process.stderr.write(`\r\x1b[2K${line}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    if (draw) process.stderr.write('\r\x1b[2K');
  }
}
