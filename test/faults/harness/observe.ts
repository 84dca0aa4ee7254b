import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WalkHeartbeat } from '../../../activities/scan.js';
import type { DatabasePool } from '../../../db/pool.js';
import { sleep } from './processes.js';

/**
 * Reading what happened, from the places that record it: Postgres (xfc_scan and friends), Temporal histories and
 * RabbitMQ's management API. Scenarios judge by these records, never by a process's own say-so.
 */

/** Polls `probe` until it returns something other than undefined/false, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const scanRow = z.object({
  scanId: z.string(),
  requestId: z.string().nullable(),
  username: z.string(),
  status: z.string(),
  usageApplied: z.boolean(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  appliedAt: z.date(),
  files: z.bigint().nullable(),
  bytes: z.bigint().nullable(),
  failureReason: z.string().nullable(),
  errors: z.unknown(),
});
export type ScanRow = z.infer<typeof scanRow>;

/** Every recorded scan (xfc_scan), optionally of one user, oldest application first. */
export async function scanRows(pool: DatabasePool, username?: string): Promise<ScanRow[]> {
  const where = username === undefined ? sql.fragment`TRUE` : sql.fragment`username = ${username}`;
  const rows = await pool.any(sql.type(scanRow)`
    SELECT scan_id AS "scanId", request_id AS "requestId", username, status, usage_applied AS "usageApplied",
           started_at AS "startedAt", finished_at AS "finishedAt", applied_at AS "appliedAt", files, bytes,
           failure_reason AS "failureReason", errors
    FROM xfc_scan WHERE ${where} ORDER BY applied_at, scan_id`);
  return [...rows];
}

/** How many rows each user has in xfc_scan. */
export async function scansPerUser(pool: DatabasePool): Promise<Map<string, number>> {
  const rows = await pool.any(sql.type(z.object({ username: z.string(), n: z.bigint() }))`
    SELECT username, count(*) AS n FROM xfc_scan GROUP BY username`);
  return new Map(rows.map((row) => [row.username, Number(row.n)]));
}

/** Requests still outstanding (claimed, or published, and not yet answered by an applied result). */
export async function outstandingRequests(pool: DatabasePool): Promise<number> {
  return Number(
    await pool.oneFirst(sql.type(z.object({ n: z.bigint() }))`
      SELECT count(*) AS n FROM xfc_user_state WHERE outstanding_request_id IS NOT NULL`),
  );
}

const notificationRow = z.object({
  scanId: z.string(),
  username: z.string(),
  status: z.string(),
  attempts: z.number(),
  recipient: z.string().nullable(),
});

export async function notificationRows(pool: DatabasePool): Promise<Array<z.infer<typeof notificationRow>>> {
  return [
    ...(await pool.any(sql.type(notificationRow)`
      SELECT scan_id AS "scanId", username, status, attempts, recipient FROM xfc_notification ORDER BY id`)),
  ];
}

/** The user's usage as recorded, and their volume's total. */
export async function usageOf(
  pool: DatabasePool,
  username: string,
): Promise<{ totalUsed: bigint; quotaUsed: bigint; volumeUsed: bigint }> {
  return pool.one(sql.type(z.object({ totalUsed: z.bigint(), quotaUsed: z.bigint(), volumeUsed: z.bigint() }))`
    SELECT u.total_used AS "totalUsed", u.quota_used AS "quotaUsed", d.used_bytes AS "volumeUsed"
    FROM xfc_control_user u JOIN xfc_control_cachedisk d ON d.id = u.cache_disk_id
    WHERE u.name = ${username} ORDER BY u.id LIMIT 1`);
}

export interface Execution {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: Date;
  closeTime: Date | undefined;
}

/** Executions matching a visibility query, e.g. `WorkflowType = "scanUser"`. */
export async function executions(client: Client, query: string): Promise<Execution[]> {
  const found: Execution[] = [];
  for await (const info of client.workflow.list({ query })) {
    found.push({
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      status: info.status.name,
      startTime: info.startTime,
      closeTime: info.closeTime,
    });
  }
  return found;
}

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The events of one run (the latest run when runId is omitted). */
export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

export interface ActivityAttempts {
  /** Activity type → attempts made, summed over its scheduled activities (1 per activity when nothing failed). */
  byType: Map<string, number>;
  /** Activity type → how many times it was scheduled. */
  scheduled: Map<string, number>;
  /** Sum over all activities of (attempts - 1). */
  retries: number;
}

/** The SDK's record of a local activity: a marker whose `data` detail names its type and final attempt. */
const localActivityMarker = 'core_local_activity';

export function localActivityOf(event: HistoryEvent): { type: string; attempt: number } | undefined {
  const marker = event.markerRecordedEventAttributes;
  const payload = marker?.markerName === localActivityMarker ? marker.details?.['data']?.payloads?.[0] : undefined;
  if (!payload) return undefined;
  const data = defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload);
  const type = data['activity_type'] ?? data['activityType'];
  const attempt = data['attempt'];
  return { type: typeof type === 'string' ? type : '?', attempt: typeof attempt === 'number' ? attempt : 1 };
}

/**
 * Attempts per activity type, from a closed run's history: ActivityTaskStarted carries a remote activity's final
 * attempt, the local-activity marker a local one's (the control steps since patch 'local-control-steps').
 */
export function activityAttempts(events: HistoryEvent[]): ActivityAttempts {
  const typeOf = new Map<string, string>();
  const byType = new Map<string, number>();
  const scheduled = new Map<string, number>();
  let retries = 0;
  for (const event of events) {
    const local = localActivityOf(event);
    if (local) {
      scheduled.set(local.type, (scheduled.get(local.type) ?? 0) + 1);
      byType.set(local.type, (byType.get(local.type) ?? 0) + local.attempt);
      retries += local.attempt - 1;
    }
    const id = String(event.eventId);
    const s = event.activityTaskScheduledEventAttributes;
    if (s) {
      const type = s.activityType?.name ?? '?';
      typeOf.set(id, type);
      scheduled.set(type, (scheduled.get(type) ?? 0) + 1);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
      const attempt = started.attempt ?? 1;
      byType.set(type, (byType.get(type) ?? 0) + attempt);
      retries += attempt - 1;
    }
  }
  return { byType, scheduled, retries };
}

/**
 * How an activity's completion shows in a history, if it does yet: a remote activity's ActivityTaskCompleted, or a
 * local activity's marker (written with the workflow task that ran it, so absent while that task is in flight).
 * `afterTimedOutTask` says whether a workflow task timed out before it: a worker died with the task in hand and the
 * step ran again on another (how a local activity is "retried").
 */
export function activityCompletion(
  events: HistoryEvent[],
  type: string,
): { kind: 'remote' | 'local'; afterTimedOutTask: boolean } | undefined {
  const typeOf = new Map<string, string>();
  let timedOut = false;
  for (const event of events) {
    if (event.workflowTaskTimedOutEventAttributes) timedOut = true;
    const s = event.activityTaskScheduledEventAttributes;
    if (s) typeOf.set(String(event.eventId), s.activityType?.name ?? '?');
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && typeOf.get(String(completed.scheduledEventId)) === type) {
      return { kind: 'remote', afterTimedOutTask: timedOut };
    }
    if (localActivityOf(event)?.type === type) return { kind: 'local', afterTimedOutTask: timedOut };
  }
  return undefined;
}

/** The results of completed activities of one type in a history, decoded. */
export function activityResults<T>(events: HistoryEvent[], type: string): Array<{ attempt: number; result: T }> {
  const typeOf = new Map<string, string>();
  const attempts = new Map<string, number>();
  const results: Array<{ attempt: number; result: T }> = [];
  for (const event of events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) typeOf.set(String(event.eventId), s.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) attempts.set(String(started.scheduledEventId), started.attempt ?? 1);
    const completed = event.activityTaskCompletedEventAttributes;
    const payload = completed?.result?.payloads?.[0];
    if (completed && payload && typeOf.get(String(completed.scheduledEventId)) === type) {
      results.push({
        attempt: attempts.get(String(completed.scheduledEventId)) ?? 1,
        result: defaultPayloadConverter.fromPayload<T>(payload),
      });
    }
  }
  return results;
}

/** A pending activity of a running workflow, as `describe()` shows it. */
export interface PendingActivity {
  type: string;
  attempt: number;
  state: string;
  heartbeat: WalkHeartbeat | undefined;
  lastHeartbeatAt: Date | undefined;
  lastFailure: string | undefined;
}

export async function pendingActivities(handle: WorkflowHandle): Promise<PendingActivity[]> {
  const description = await handle.describe();
  return (description.raw.pendingActivities ?? []).map((activity) => {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const seconds = activity.lastHeartbeatTime?.seconds;
    return {
      type: activity.activityType?.name ?? '?',
      attempt: activity.attempt ?? 1,
      state: String(activity.state ?? ''),
      heartbeat: payload ? defaultPayloadConverter.fromPayload<WalkHeartbeat>(payload) : undefined,
      lastHeartbeatAt:
        seconds === undefined || seconds === null
          ? undefined
          : new Date(Number(seconds) * 1000 + Math.floor((activity.lastHeartbeatTime?.nanos ?? 0) / 1e6)),
      lastFailure: activity.lastFailure?.message ?? undefined,
    };
  });
}

export interface Overlap {
  key: string;
  first: { start: Date; end: Date };
  second: { start: Date; end: Date };
}

/** Pairs of intervals of one key that overlap (touching ends do not); empty when each key's intervals are disjoint. */
export function overlaps(intervals: Array<{ key: string; start: Date; end: Date }>): Overlap[] {
  const byKey = new Map<string, Array<{ start: Date; end: Date }>>();
  for (const { key, start, end } of intervals) byKey.set(key, [...(byKey.get(key) ?? []), { start, end }]);
  const found: Overlap[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start.getTime() - b.start.getTime());
    // Compare each interval with the one reaching furthest so far, so a long interval is checked against all later.
    let furthest = list[0];
    for (const current of list.slice(1)) {
      if (furthest && current.start.getTime() < furthest.end.getTime()) {
        found.push({ key, first: furthest, second: current });
      }
      if (!furthest || current.end.getTime() > furthest.end.getTime()) furthest = current;
    }
  }
  return found;
}
