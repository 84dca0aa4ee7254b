import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { XfcConfig } from '../config/env.js';
import { formatDuration } from '../common/duration.js';
import { sweepScheduleId, sweepWorkflowIdPrefix, workflowTypes } from './names.js';

type SweepScheduleSettings = Pick<ScheduleOptions, 'spec' | 'action' | 'policies'>;

/**
 * The sweep schedule as configuration says it should be: every XFC_SWEEP_INTERVAL; a sweep still running when the
 * next is due makes that one skip (overlap SKIP); after an outage at most one missed sweep is caught up (the catch-up
 * window is one interval), because a sweep claims the stalest users whenever it runs.
 */
export function sweepScheduleSettings(config: Pick<XfcConfig, 'sweep' | 'temporal'>): SweepScheduleSettings {
  return {
    spec: { intervals: [{ every: config.sweep.intervalMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: workflowTypes.sweep,
      workflowId: sweepWorkflowIdPrefix,
      taskQueue: config.temporal.controlTaskQueue,
      args: [{}],
      staticSummary: `Sweep: claim the stalest users and request their scans (schedule ${sweepScheduleId})`,
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: Math.max(config.sweep.intervalMs, 60_000),
    },
  };
}

/** Creates the schedule `xfc-sweep`, or updates it to the current settings: safe to run at every start-up. */
export async function applySweepSchedule(
  client: Client,
  config: Pick<XfcConfig, 'sweep' | 'temporal'>,
): Promise<{ scheduleId: string; created: boolean; every: string }> {
  const settings = sweepScheduleSettings(config);
  const every = formatDuration(config.sweep.intervalMs);
  try {
    await client.schedule.create({ scheduleId: sweepScheduleId, ...settings });
    return { scheduleId: sweepScheduleId, created: true, every };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(sweepScheduleId).update((previous): ScheduleUpdateOptions => ({
    ...previous,
    spec: settings.spec,
    action: settings.action,
    policies: { ...previous.policies, ...settings.policies },
  }));
  return { scheduleId: sweepScheduleId, created: false, every };
}

export async function describeSweepSchedule(client: Client): Promise<ScheduleDescription> {
  return client.schedule.getHandle(sweepScheduleId).describe();
}
