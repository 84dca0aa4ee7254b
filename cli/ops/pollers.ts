import type { Connection } from '@temporalio/client';

/** temporal.api.enums.v1.TaskQueueType */
export const taskQueueTypes = { workflow: 1, activity: 2 } as const;

export interface Poller {
  identity: string;
  lastAccess: Date | undefined;
}

/**
 * Workers that polled a task queue recently (Temporal's DescribeTaskQueue keeps pollers for a few minutes after
 * they were last seen). `freshWithinMs` keeps only those seen within that time: an idle worker re-polls about
 * once a minute, so 90 s tells a running worker from one that stopped a moment ago.
 */
export async function pollersOf(
  connection: Pick<Connection, 'workflowService'>,
  namespace: string,
  taskQueue: string,
  type: keyof typeof taskQueueTypes,
  freshWithinMs = 90_000,
): Promise<Poller[]> {
  const response = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: taskQueueTypes[type],
  });
  const now = Date.now();
  return (response.pollers ?? [])
    .map((poller) => {
      const seconds = poller.lastAccessTime?.seconds;
      const lastAccess =
        seconds === undefined || seconds === null
          ? undefined
          : new Date(Number(seconds) * 1000 + Math.floor((poller.lastAccessTime?.nanos ?? 0) / 1e6));
      return { identity: poller.identity ?? '?', lastAccess };
    })
    .filter((poller) => !poller.lastAccess || now - poller.lastAccess.getTime() <= freshWithinMs);
}
