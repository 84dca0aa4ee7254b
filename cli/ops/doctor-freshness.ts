import { sql } from 'slonik';
import { z } from 'zod';
import { errorMessage } from '../../lib/common/errors.js';
import { formatDuration } from '../../lib/common/duration.js';
import type { XfcConfig } from '../../lib/config/env.js';
import { readFleetHealth } from '../../db/fleet-health.js';
import { withPool } from '../../db/pool.js';

/**
 * `xfc doctor`'s scan freshness: when the sweep last ran, the oldest last scan, and who was never scanned. Warnings
 * only: a stale fleet is something to look into, not a reason xfc cannot run.
 */

export type FreshnessAdd = (name: string, status: 'ok' | 'warn' | 'fail', detail: string, fix?: string) => void;

const dayMs = 86_400_000;

export async function checkScanFreshness(config: XfcConfig, add: FreshnessAdd, now = new Date()): Promise<void> {
  try {
    await withPool(config.databaseUrl, async (pool) => {
      const health = await readFleetHealth(pool, {
        now,
        warnPercent: config.notify.warnPercent,
        overPercent: config.notify.overPercent,
        withinDays: [2],
      });
      const sweepLimitMs = Math.max(3 * config.sweep.intervalMs, 30 * 60_000);
      if (!health.lastSweep) {
        add(
          'last sweep',
          'warn',
          'no sweep has run yet',
          'Start the control worker (it applies the xfc-sweep schedule).',
        );
      } else {
        const age = now.getTime() - health.lastSweep.getTime();
        add(
          'last sweep',
          age > sweepLimitMs ? 'warn' : 'ok',
          `${health.lastSweep.toISOString()} (${formatDuration(age)} ago; every ${formatDuration(config.sweep.intervalMs)})`,
          'The sweep is stalled: `xfc schedule describe`, and the sweep workflow in the Temporal Web UI.',
        );
      }
      const stale = health.notScannedWithin[0]?.users ?? 0;
      const scanned = health.users - health.neverScanned;
      if (!health.oldestScan) {
        add('oldest scan', health.users > 0 ? 'warn' : 'ok', health.users > 0 ? 'nobody scanned yet' : 'no users');
      } else {
        const age = now.getTime() - health.oldestScan.getTime();
        add(
          'oldest scan',
          age > 2 * dayMs ? 'warn' : 'ok',
          `${health.oldestScan.toISOString()} (${formatDuration(age)} ago); ${stale - health.neverScanned} of ${scanned} scanned users not within 2 days`,
          '`xfc report` (scan health) shows who and why; `xfc users show NAME` one user.',
        );
      }
      const names = await pool.anyFirst(sql.type(z.object({ name: z.string() }))`
        SELECT u.name FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id
        WHERE s.last_scanned IS NULL ORDER BY u.name LIMIT 5`);
      add(
        'never scanned',
        health.neverScanned > 0 ? 'warn' : 'ok',
        health.neverScanned === 0
          ? `all ${health.users} users have been scanned`
          : `${health.neverScanned} of ${health.users} users: ${names.map((name) => JSON.stringify(name)).join(', ')}${health.neverScanned > names.length ? ', …' : ''}`,
        'New users are scanned by the next sweeps; if they stay here, their scans fail (`xfc report`).',
      );
    });
  } catch (err) {
    const message = errorMessage(err);
    add(
      'scan freshness',
      'warn',
      `not checked: ${message}`,
      /relation .* does not exist/.test(message)
        ? 'Apply the migrations: `xfc db migrate`.'
        : 'Fix the PostgreSQL checks above first.',
    );
  }
}
