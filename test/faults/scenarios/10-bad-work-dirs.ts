import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { scanWorkflowId } from '../../../lib/temporal/names.js';
import { insertUser } from '../../support/users.js';
import { activityAttempts, executions, historyOf, scanRows, until } from '../harness/observe.js';
import { jsonLines, sleep } from '../harness/processes.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

interface BadDir {
  username: string;
  what: string;
  reason: string;
}

export interface BadWorkDirsMeasured {
  users: Array<{
    username: string;
    what: string;
    reason: string | undefined;
    /** From publishing the request to the failure recorded in xfc_scan. */
    failedAfterMs: number;
    scanRuns: number;
    activities: number;
    activityRetries: number;
    scanRows: number;
  }>;
  bridgeRetries: number;
}

/**
 * 10. Work directories that must not be walked: missing, a symbolic link, under a volume outside XFC_ROOT, under a
 * volume that is itself a link leading outside, and a plain file. Each request ends quickly as scan.failed with the
 * reason, recorded once, with no activity retried and no second run.
 */
export const badWorkDirs: Scenario<BadWorkDirsMeasured> = {
  id: 10,
  name: 'work directory missing, a symlink, or outside XFC_ROOT',
  async run({ note = () => undefined }) {
    const stack = await startFaultStack();
    const outside = join(dirname(stack.root), `${stack.db.name}-elsewhere`);
    const checks = new Checks();
    try {
      const cases: BadDir[] = [
        { username: 'ghost', what: 'missing', reason: 'work-dir-missing' },
        { username: 'linky', what: 'a symlink to a directory outside', reason: 'work-dir-symlink' },
        { username: 'outsider', what: 'on a volume outside XFC_ROOT', reason: 'work-dir-outside-root' },
        { username: 'tunnel', what: 'under a volume that links outside', reason: 'work-dir-outside-root' },
        { username: 'flat', what: 'a regular file', reason: 'work-dir-not-directory' },
      ];
      const vol1 = join(stack.root, 'vol1');
      mkdirSync(join(vol1, 'user_cache'), { recursive: true });
      mkdirSync(join(outside, 'user_cache', 'outsider'), { recursive: true });
      mkdirSync(join(outside, 'user_cache', 'tunnel'), { recursive: true });
      mkdirSync(join(outside, 'target'), { recursive: true });
      writeFileSync(join(outside, 'target', 'private'), 'not yours');
      symlinkSync(join(outside, 'target'), join(vol1, 'user_cache', 'linky'));
      symlinkSync(outside, join(stack.root, 'vol2'));
      writeFileSync(join(vol1, 'user_cache', 'flat'), 'a file, not a directory');
      await insertUser(stack.pool, { name: 'ghost', mountpoint: vol1 });
      await insertUser(stack.pool, { name: 'linky', mountpoint: vol1 });
      await insertUser(stack.pool, { name: 'flat', mountpoint: vol1 });
      await insertUser(stack.pool, { name: 'outsider', mountpoint: outside });
      await insertUser(stack.pool, { name: 'tunnel', mountpoint: join(stack.root, 'vol2') });
      const [, bridge] = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);

      const published = new Map<string, number>();
      for (const { username } of cases) {
        published.set(username, Date.now());
        await requestScanViaQueue(stack.config, username);
      }
      const failedAt = new Map<string, number>();
      await until(
        'every request to end as a recorded failure',
        async () => {
          for (const { username } of cases) {
            if (!failedAt.has(username) && (await scanRows(stack.pool, username)).length > 0) {
              failedAt.set(username, Date.now());
            }
          }
          return failedAt.size === cases.length;
        },
        60_000,
        50,
      );
      note('all failed; waiting to see that nothing retries');
      await sleep(5_000);

      const measured: BadWorkDirsMeasured = { users: [], bridgeRetries: 0 };
      for (const { username, what, reason } of cases) {
        const handle = stack.client.workflow.getHandle(scanWorkflowId(username));
        const result = await scanResult(handle);
        const attempts = activityAttempts(await historyOf(stack.client, handle.workflowId));
        const runs = await executions(stack.client, `WorkflowId = "${handle.workflowId}"`);
        const rows = await scanRows(stack.pool, username);
        const got = result.type === 'scan.failed' ? result.message.reason : undefined;
        const failedAfterMs = (failedAt.get(username) ?? Date.now()) - (published.get(username) ?? 0);
        const activities = [...attempts.scheduled.values()].reduce((sum, n) => sum + n, 0);
        checks.equal(`${username} (${what}): scan.failed ${reason}`, got, reason);
        checks.expect(
          `${username}: recorded once, one run, nothing retried`,
          rows.length === 1 && rows[0]?.failureReason === reason && runs.length === 1 && attempts.retries === 0,
          `${rows.length} row(s) (${rows[0]?.failureReason ?? '-'}), ${runs.length} run(s), ${attempts.retries} retries`,
        );
        checks.expect(`${username}: failed within 10 s`, failedAfterMs < 10_000, seconds(failedAfterMs));
        measured.users.push({
          username,
          what,
          reason: got,
          failedAfterMs,
          scanRuns: runs.length,
          activities,
          activityRetries: attempts.retries,
          scanRows: rows.length,
        });
      }
      measured.bridgeRetries = jsonLines(bridge.output()).filter((l) => l.event === 'message.retry-later').length;
      checks.equal('the bridge retried nothing', measured.bridgeRetries, 0);
      return {
        summary: measured.users
          .map(
            (u) =>
              `${u.what} → ${u.reason ?? '?'} in ${seconds(u.failedAfterMs)} (${u.activities} activities, ` +
              `${u.activityRetries} retries, ${u.scanRuns} run)`,
          )
          .join('; '),
        checks: checks.list,
        measured,
      };
    } finally {
      rmSync(outside, { recursive: true, force: true });
      await stack.stop();
    }
  },
};
