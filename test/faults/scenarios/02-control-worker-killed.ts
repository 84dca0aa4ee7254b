import { sql } from 'slonik';
import { z } from 'zod';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { applyWorkflowId, scanWorkflowId } from '../../../lib/temporal/names.js';
import type { ApplyScanResult } from '../../../lib/temporal/contracts.js';
import { emailsPerRecipient, putOverQuota, registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import {
  activityAttempts,
  activityCompletion,
  historyOf,
  notificationRows,
  pendingActivities,
  scanRows,
  until,
  usageOf,
} from '../harness/observe.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack, type FaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

/** Where in the application the control worker dies. */
export type KillPoint = 'recorded' | 'decided';

export interface ControlKillMeasured {
  points: Array<{
    point: KillPoint;
    /** Steps of 0.25 ms the frozen worker was allowed before the point was reached. */
    steps: number;
    /** Whether the kill landed inside the activity (its transaction committed, its completion not yet reported). */
    insideActivity: boolean;
    recoveryMs: number;
    scanRows: number;
    emails: number;
    notification: ApplyScanResult['notification'] | undefined;
    retriedActivity: string;
    retries: number;
    usageMatches: boolean;
  }>;
}

const stepMs = 0.25;

const scanIdRow = z.object({ scanId: z.string() });

/**
 * What tells that the apply reached a kill point: its row in Postgres (the scan id, once there), and which activity
 * must still be running.
 */
const killPoints: Record<
  KillPoint,
  { activity: string; reached(stack: FaultStack, username: string): Promise<string | null> }
> = {
  recorded: {
    activity: 'recordScan',
    reached: (stack, username) =>
      stack.pool.maybeOneFirst(sql.type(scanIdRow)`
          SELECT scan_id AS "scanId" FROM xfc_scan WHERE username = ${username}`),
  },
  decided: {
    activity: 'decideNotification',
    reached: (stack, username) =>
      stack.pool.maybeOneFirst(sql.type(scanIdRow)`
          SELECT n.scan_id AS "scanId" FROM xfc_notification n JOIN xfc_scan s ON s.scan_id = n.scan_id
          WHERE s.username = ${username}`),
  },
};

/**
 * 2. The control worker is killed in the middle of applying a scan: after the transaction of an activity committed
 * and before Temporal heard that the activity completed. The control worker is frozen before the scan is requested
 * (the scan hands its result to the application on that worker) and stepped a quarter of a millisecond at a time
 * until the activity's row appears in Postgres, then SIGKILLed. The step runs again on the replacement worker (a local
 * activity when the workflow task the killed worker held times out; a remote one after its start-to-close timeout): the scan must be recorded once, usage applied once, and the email that was due sent once.
 */
export const controlWorkerKilled: Scenario<ControlKillMeasured> = {
  id: 2,
  name: 'control worker killed mid-apply',
  async run({ quick, note = () => undefined }) {
    const points: KillPoint[] = quick ? ['recorded'] : ['recorded', 'decided'];
    const stack = await startFaultStack({ smtp: true });
    const checks = new Checks();
    const measured: ControlKillMeasured = { points: [] };
    try {
      const users = points.map((point) => `hoarder-${point}`);
      // One volume each: a volume's used_bytes must then equal its one user's usage (not twice it).
      users.forEach((username, i) => writeSmallTrees(stack.root, `vol${i + 1}`, [username]));
      await registerUsers(stack.pool, stack.root, users);
      await putOverQuota(stack.pool, users);
      let control = await stack.start('control');
      await stack.start('bridge');
      await stack.start('scan');

      for (const [i, point] of points.entries()) {
        const username = users[i]!;
        const { activity } = killPoints[point];
        // The scan hands its result to the application inside Temporal, both on the control worker: freeze it before
        // the request goes out, so the scan and then the application run only as fast as the worker is stepped.
        control.freeze();
        await requestScanViaQueue(stack.config, username);
        const scanHandle = stack.client.workflow.getHandle(scanWorkflowId(username));
        await until('the bridge to start the scan', () =>
          scanHandle.describe().then(
            () => true,
            () => false,
          ),
        );

        note(`stepping the control worker to "${point}" (${activity} committed)`);
        let steps = 0;
        let scanId: string | null = null;
        while ((scanId = await killPoints[point].reached(stack, username)) === null) {
          if (++steps > 400_000) throw new Error(`the control worker never reached "${point}"`);
          await control.step(stepMs);
        }
        const applyHandle = stack.client.workflow.getHandle(applyWorkflowId(scanId));
        // Inside: its transaction committed (the row above) and Temporal has not heard of its completion — a remote
        // activity still pending, a local one (the control steps since patch 'local-control-steps') without its marker.
        const pending = await pendingActivities(applyHandle);
        const completionSeen = activityCompletion(await historyOf(stack.client, applyHandle.workflowId), activity);
        const insideActivity = completionSeen === undefined;
        const killedAt = Date.now();
        control.kill('SIGKILL');
        await control.exited;
        checks.expect(
          `${point}: killed after ${activity} committed, before its completion reached Temporal`,
          insideActivity,
          `pending: ${pending.map((a) => a.type).join(', ') || 'none'}, completion in history: ` +
            `${completionSeen?.kind ?? 'none'} after ${steps} steps`,
        );

        note(`killed; starting a replacement control worker`);
        control = await stack.start('control');
        const scan = await scanResult(scanHandle);
        if (scan.type !== 'scan.completed') throw new Error(`the scan of ${username} ended as ${scan.type}`);
        const applied = (await applyHandle.result()) as ApplyScanResult;
        const recoveryMs = Date.now() - killedAt;
        const history = await historyOf(stack.client, applyHandle.workflowId);
        const attempts = activityAttempts(history);
        const completion = activityCompletion(history, activity);
        const rows = await scanRows(stack.pool, username);
        const usage = await usageOf(stack.pool, username);
        const emails = emailsPerRecipient(stack.smtp?.messages ?? []).get(`${username}@example.org`) ?? 0;
        const notifications = (await notificationRows(stack.pool)).filter((n) => n.scanId === scanId);
        const usageMatches =
          usage.totalUsed === BigInt(scan.message.totals.bytes) &&
          usage.quotaUsed === BigInt(scan.message.totals.temporalByteDays) &&
          usage.volumeUsed === usage.totalUsed;

        checks.equal(`${point}: one scan row`, rows.length, 1);
        checks.expect(
          `${point}: usage applied once`,
          usageMatches && rows[0]?.usageApplied === true,
          JSON.stringify(usage, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
        );
        checks.equal(`${point}: one outbox row`, notifications.length, 1);
        checks.equal(`${point}: the email that was due was sent`, applied.notification, 'sent');
        checks.equal(`${point}: exactly one email`, emails, 1);
        // A remote activity is retried (attempt 2 after its start-to-close timeout); a local one runs again when the
        // replacement worker takes over the workflow task the killed one held (it timed out).
        const ranAgain =
          completion?.kind === 'local' ? completion.afterTimedOutTask : (attempts.byType.get(activity) ?? 0) >= 2;
        checks.expect(
          `${point}: ${activity} ran again on the replacement worker`,
          ranAgain,
          `${completion?.kind ?? 'no'} completion, ${attempts.byType.get(activity) ?? 0} attempt(s), ` +
            `after a timed-out workflow task: ${completion?.afterTimedOutTask ?? false}`,
        );
        measured.points.push({
          point,
          steps,
          insideActivity,
          recoveryMs,
          scanRows: rows.length,
          emails,
          notification: applied.notification,
          retriedActivity: activity,
          retries: attempts.retries,
          usageMatches,
        });
      }
      return {
        summary: measured.points
          .map(
            (p) =>
              `killed after ${p.retriedActivity} committed (${p.insideActivity ? 'inside' : 'NOT inside'} the activity, ` +
              `${p.steps} steps): ${p.scanRows} scan row, usage ${p.usageMatches ? 'applied once' : 'WRONG'}, ` +
              `${p.emails} email (${p.notification}), applied ${seconds(p.recoveryMs)} after the kill`,
          )
          .join('; '),
        checks: checks.list,
        measured,
      };
    } finally {
      await stack.stop();
    }
  },
};
