import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { WalkChunkResult, WalkHeartbeat } from '../../activities/scan.js';

/** Polls `probe` every 50 ms until it returns a value (or throws after `timeoutMs`). */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The heartbeat of the scan's walk activity in progress, once it has counted some files. */
export async function heartbeatWithFiles(handle: WorkflowHandle): Promise<WalkHeartbeat> {
  return until('a heartbeat with progress', async () => {
    const description = await handle.describe().catch(() => undefined);
    const activity = description?.raw.pendingActivities?.find((a) => a.activityType?.name === 'walkChunk');
    const payload = activity?.heartbeatDetails?.payloads?.[0];
    if (!payload) return undefined;
    const heartbeat = defaultPayloadConverter.fromPayload<WalkHeartbeat>(payload);
    return heartbeat.progress.files > 0 ? heartbeat : undefined;
  });
}

/** Each completed walk chunk with the attempt that produced it, from the workflow's history. */
export async function walkChunks(handle: WorkflowHandle): Promise<Array<{ attempt: number; result: WalkChunkResult }>> {
  const { events = [] } = await handle.fetchHistory();
  const attempts = new Map<string, number>();
  const chunks: Array<{ attempt: number; result: WalkChunkResult }> = [];
  for (const event of events as temporal.api.history.v1.IHistoryEvent[]) {
    const started = event.activityTaskStartedEventAttributes;
    if (started) attempts.set(String(started.scheduledEventId), started.attempt ?? 1);
    const completed = event.activityTaskCompletedEventAttributes;
    const payload = completed?.result?.payloads?.[0];
    if (!completed || !payload) continue;
    const result = defaultPayloadConverter.fromPayload<WalkChunkResult | null>(payload);
    if (result && typeof result === 'object' && 'done' in result) {
      chunks.push({ attempt: attempts.get(String(completed.scheduledEventId)) ?? 1, result });
    }
  }
  return chunks;
}
