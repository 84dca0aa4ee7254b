import type { UserUsage } from '../db/users.js';

/**
 * `xfc users list --sort --over --near --limit`: which users to show and in what order, in memory after the
 * database read (a site has thousands of users, not millions).
 */

export const userSortKeys = ['name', 'volume', 'hard', 'temporal', 'usage', 'last-scan'] as const;
export type UserSortKey = (typeof userSortKeys)[number];

export interface UserSelection {
  sort: UserSortKey;
  /** At or over the over threshold of either quota. */
  over: boolean;
  /** At or over the warning threshold of either quota, but under the over threshold. */
  near: boolean;
  limit?: number;
}

export interface Thresholds {
  warnPercent: number;
  overPercent: number;
}

const worst = (user: UserUsage): number => Math.max(user.hardPercent, user.temporalPercent);
const byName = (a: UserUsage, b: UserUsage): number => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0);

/** Biggest share first for the usage keys; stalest first for last-scan (never scanned before all); else A→Z. */
const comparators: Record<UserSortKey, (a: UserUsage, b: UserUsage) => number> = {
  name: byName,
  volume: (a, b) => (a.volume < b.volume ? -1 : a.volume > b.volume ? 1 : byName(a, b)),
  hard: (a, b) => b.hardPercent - a.hardPercent || byName(a, b),
  temporal: (a, b) => b.temporalPercent - a.temporalPercent || byName(a, b),
  usage: (a, b) => worst(b) - worst(a) || byName(a, b),
  'last-scan': (a, b) =>
    (a.lastScanned?.getTime() ?? -Infinity) - (b.lastScanned?.getTime() ?? -Infinity) || byName(a, b),
};

export function selectUsers(users: UserUsage[], selection: UserSelection, thresholds: Thresholds): UserUsage[] {
  const wanted = users.filter((user) => {
    if (!selection.over && !selection.near) return true;
    const share = worst(user);
    const over = share >= thresholds.overPercent;
    const near = !over && share >= thresholds.warnPercent;
    return (selection.over && over) || (selection.near && near);
  });
  const sorted = [...wanted].sort(comparators[selection.sort]);
  return selection.limit === undefined ? sorted : sorted.slice(0, selection.limit);
}
