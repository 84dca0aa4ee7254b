import type { HistoryEvent } from './observe.js';

/**
 * Where a workflow's time went, from its history: time waiting in a task queue (scheduled → started) and time
 * running (started → completed), for workflow tasks and for each activity type. `npm run bench:pipeline` sums these
 * over a sample of runs to show what limits throughput.
 */

export interface Phases {
  /** Phase name ("workflow task: queued", "walkChunk: running", …) → milliseconds. */
  ms: Map<string, number>;
  /** Phase name → how many spans were summed. */
  spans: Map<string, number>;
  /** First event to last event. */
  totalMs: number;
}

function millis(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

export function phases(events: HistoryEvent[]): Phases {
  const result: Phases = { ms: new Map(), spans: new Map(), totalMs: 0 };
  const add = (name: string, from: number | undefined, to: number): void => {
    if (from === undefined) return;
    result.ms.set(name, (result.ms.get(name) ?? 0) + (to - from));
    result.spans.set(name, (result.spans.get(name) ?? 0) + 1);
  };
  const at = new Map<string, number>();
  const activityType = new Map<string, string>();
  let workflowTaskScheduled: number | undefined;
  let workflowTaskStarted: number | undefined;
  for (const event of events) {
    const t = millis(event);
    const id = String(event.eventId);
    if (event.workflowTaskScheduledEventAttributes) workflowTaskScheduled = t;
    if (event.workflowTaskStartedEventAttributes) {
      add('workflow task: queued', workflowTaskScheduled, t);
      workflowTaskStarted = t;
    }
    if (event.workflowTaskCompletedEventAttributes) add('workflow task: running', workflowTaskStarted, t);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      at.set(id, t);
      activityType.set(id, scheduled.activityType?.name ?? '?');
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const key = String(started.scheduledEventId);
      add(`${activityType.get(key) ?? '?'}: queued`, at.get(key), t);
      at.set(`started-${key}`, t);
    }
    const completed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
    if (completed) {
      const key = String(completed.scheduledEventId);
      add(`${activityType.get(key) ?? '?'}: running`, at.get(`started-${key}`), t);
    }
  }
  if (events.length > 0) result.totalMs = millis(events[events.length - 1]!) - millis(events[0]!);
  return result;
}

/** Sums the phases of many runs. */
export function sumPhases(list: Phases[]): Phases {
  const total: Phases = { ms: new Map(), spans: new Map(), totalMs: 0 };
  for (const entry of list) {
    total.totalMs += entry.totalMs;
    for (const [name, ms] of entry.ms) total.ms.set(name, (total.ms.get(name) ?? 0) + ms);
    for (const [name, n] of entry.spans) total.spans.set(name, (total.spans.get(name) ?? 0) + n);
  }
  return total;
}

/** "walkChunk: queued 1.2 s, …" per run (averaged over `runs`), largest first; (×n) when a phase recurs. */
export function describePhases(total: Phases, runs: number): string {
  const per = (ms: number): string => `${(ms / runs / 1000).toFixed(2)} s`;
  return (
    `${per(total.totalMs)} per run: ` +
    [...total.ms.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => {
        const spans = (total.spans.get(name) ?? 0) / runs;
        return `${name} ${per(ms)}${spans > 1.05 ? ` (×${spans.toFixed(1)})` : ''}`;
      })
      .join(', ')
  );
}
