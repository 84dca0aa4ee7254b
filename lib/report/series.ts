import type { UserUsage } from '../../db/users.js';
import type { UserHistory } from './queries.js';

/**
 * Pure shaping of the history into what the charts draw. A user's value on a day is their last measurement on or
 * before that day (carried forward: the sweep scans each user every few days, not daily), and nothing before their
 * first measurement.
 */

export const dayMs = 86_400_000;

export interface StackSeries {
  /** A username, or `others` for the rest grouped. */
  name: string;
  /** The user behind the series (none for the grouped rest). */
  username?: string;
  hard: number[];
  temporal: number[];
}

export interface VolumeStack {
  /** Day numbers (days since the epoch, UTC). */
  days: number[];
  series: StackSeries[];
  /** How many users the `others` series groups. */
  othersCount: number;
}

/**
 * The days drawn, ending on `now`'s day: every day for windows up to 120 days, every 7th day beyond (a year is 53
 * points; each still shows the last measurement on or before it). Fewer points keep a year's charts quick to draw.
 */
export function dayRange(since: Date, now: Date): number[] {
  const first = Math.floor(since.getTime() / dayMs);
  const last = Math.floor(now.getTime() / dayMs);
  const step = last - first > 120 ? 7 : 1;
  const days: number[] = [];
  for (let day = last; day >= first; day -= step) days.push(day);
  return days.reverse();
}

/** The history carried forward onto `days` (0 before the first measurement). */
export function carryForward(history: UserHistory | undefined, days: number[]): { hard: number[]; temporal: number[] } {
  const hard = new Array<number>(days.length).fill(0);
  const temporal = new Array<number>(days.length).fill(0);
  if (!history || history.days.length === 0) return { hard, temporal };
  let next = 0;
  let currentHard = 0;
  let currentTemporal = 0;
  for (let index = 0; index < days.length; index++) {
    const day = days[index]!;
    while (next < history.days.length && history.days[next]! <= day) {
      currentHard = history.bytes[next]!;
      currentTemporal = history.temporal[next]!;
      next++;
    }
    hard[index] = currentHard;
    temporal[index] = currentTemporal;
  }
  return { hard, temporal };
}

/**
 * A volume's usage stacked by its `top` largest users (by current hard usage, then temporal), the rest summed into
 * one `others` series.
 */
/** Users by current hard usage, then temporal usage, largest first: the first `top`. */
export function largestUsers(users: UserUsage[], top: number): UserUsage[] {
  return [...users]
    .sort((a, b) =>
      a.hardUsed === b.hardUsed
        ? Number(b.temporalUsed > a.temporalUsed) - Number(b.temporalUsed < a.temporalUsed)
        : Number(b.hardUsed > a.hardUsed) - Number(b.hardUsed < a.hardUsed),
    )
    .slice(0, top);
}

export function stackVolume(
  users: UserUsage[],
  history: Map<string, UserHistory>,
  days: number[],
  top: number,
): VolumeStack {
  const largest = largestUsers(users, top);
  const shown = new Set(largest);
  const rest = users.filter((user) => !shown.has(user));
  const series: StackSeries[] = largest.map((user) => ({
    name: user.username,
    username: user.username,
    ...carryForward(history.get(String(user.userId)), days),
  }));
  if (rest.length > 0) {
    const others: StackSeries = {
      name: `${rest.length} other user${rest.length === 1 ? '' : 's'}`,
      hard: new Array<number>(days.length).fill(0),
      temporal: new Array<number>(days.length).fill(0),
    };
    for (const user of rest) {
      const values = carryForward(history.get(String(user.userId)), days);
      for (let index = 0; index < days.length; index++) {
        others.hard[index]! += values.hard[index]!;
        others.temporal[index]! += values.temporal[index]!;
      }
    }
    series.push(others);
  }
  return { days, series, othersCount: rest.length };
}

/** Bucket edges (percent) for the users-by-%-of-quota distribution; the last bucket is open. */
export const percentEdges = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200] as const;

export function percentBucketLabels(): string[] {
  const labels: string[] = [];
  let low = 0;
  for (const edge of percentEdges) {
    labels.push(`${low}–${edge} %`);
    low = edge;
  }
  labels.push(`≥${low} %`);
  return labels;
}

/** How many of `percents` fall in each bucket of {@link percentEdges}. */
export function percentDistribution(percents: number[]): number[] {
  const counts = new Array<number>(percentEdges.length + 1).fill(0);
  for (const percent of percents) {
    let index = percentEdges.findIndex((edge) => percent < edge);
    if (index === -1) index = percentEdges.length;
    counts[index]!++;
  }
  return counts;
}

/** Last-scan age buckets for scan health. */
export const scanAgeLabels = ['< 1 day', '1–2 days', '2–7 days', '7–30 days', '≥ 30 days', 'never'] as const;
const scanAgeLimitsDays = [1, 2, 7, 30];

export function scanAgeDistribution(users: UserUsage[], now: Date): number[] {
  const counts = new Array<number>(scanAgeLabels.length).fill(0);
  for (const user of users) {
    if (!user.lastScanned) {
      counts[scanAgeLabels.length - 1]!++;
      continue;
    }
    const ageDays = (now.getTime() - user.lastScanned.getTime()) / dayMs;
    let index = scanAgeLimitsDays.findIndex((limit) => ageDays < limit);
    if (index === -1) index = scanAgeLimitsDays.length;
    counts[index]!++;
  }
  return counts;
}
