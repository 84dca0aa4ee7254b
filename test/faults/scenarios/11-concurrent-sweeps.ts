import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { workflowTypes } from '../../../lib/temporal/names.js';
import { registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import { executions, outstandingRequests, overlaps, scanRows, until } from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import { startSweep } from '../harness/pipeline.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';

export interface ConcurrentSweepsMeasured {
  users: number;
  sweeps: number;
  /** The two sweeps started together: users each claimed, and users both claimed (must be 0). */
  pairClaimed: [number, number];
  claimedByBoth: number;
  manualRequests: number;
  scans: number;
  usersScannedMoreThanOnce: number;
  maxScansPerUser: number;
  /** Overlapping scan intervals of one user, from xfc_scan (started_at–finished_at) and from Temporal runs. */
  overlappingScans: number;
  overlappingRuns: number;
  /** Sweep claims left outstanding because their request joined a scan serving another request. */
  outstandingLeft: number;
}

/**
 * 11. Two sweeps at once, then a sweep every second while scans run (rescans allowed at once: XFC_RESCAN_AFTER=0),
 * plus manual requests for users being scanned. No user is ever scanned twice at the same time: checked on the
 * scan intervals recorded in xfc_scan and on the scanUser runs' open–close times in Temporal.
 */
export const concurrentSweeps: Scenario<ConcurrentSweepsMeasured> = {
  id: 11,
  name: 'two sweeps at once, and sweeps while scans run',
  async run({ quick, note = () => undefined }) {
    const userCount = quick ? 30 : 80;
    const sweepForMs = quick ? 10_000 : 40_000;
    const stack = await startFaultStack({ env: { XFC_RESCAN_AFTER: '0s', XFC_SCAN_MAX_WALKS: '4' } });
    const checks = new Checks();
    try {
      const users = Array.from({ length: userCount }, (_, i) => `user${String(i).padStart(3, '0')}`);
      writeSmallTrees(stack.root, 'vol1', users);
      await registerUsers(stack.pool, stack.root);
      const [, , scanWorker] = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      const release = scanWorker.throttle(10);

      // Two sweeps at once, each asking for more than half: they compete for the same stalest users.
      const batch = Math.ceil(userCount * 0.6);
      const [a, b] = await Promise.all([startSweep(stack, batch), startSweep(stack, batch)]);
      const [first, second] = await Promise.all([a.result(), b.result()]);
      const claimedByBoth = first.claimed.filter((name) => second.claimed.includes(name)).length;
      let sweeps = 2;
      let manualRequests = 0;
      note(`two sweeps at once claimed ${first.claimed.length} + ${second.claimed.length}; sweeping every second`);

      const until_ = Date.now() + sweepForMs;
      while (Date.now() < until_) {
        await startSweep(stack, userCount);
        sweeps++;
        // And someone asks for users who are being scanned right now.
        const running = await executions(
          stack.client,
          `WorkflowType = "${workflowTypes.scanUser}" AND ExecutionStatus = "Running"`,
        );
        for (const run of running.slice(0, 2)) {
          await requestScanViaQueue(stack.config, run.workflowId.replace(/^scan-/, ''));
          manualRequests++;
        }
        await sleep(1_000);
      }
      release();
      note('waiting for every scan and application to end');
      await until(
        'no scan or application to be running',
        async () =>
          (
            await executions(
              stack.client,
              `(WorkflowType = "${workflowTypes.scanUser}" OR WorkflowType = "${workflowTypes.applyScan}") AND ExecutionStatus = "Running"`,
            )
          ).length === 0,
        180_000,
        500,
      );
      await sleep(3_000);
      await until(
        'quiet: nothing running for 3 s',
        async () =>
          (
            await executions(
              stack.client,
              `(WorkflowType = "${workflowTypes.scanUser}" OR WorkflowType = "${workflowTypes.applyScan}") AND ExecutionStatus = "Running"`,
            )
          ).length === 0,
        60_000,
      );

      const rows = (await scanRows(stack.pool)).filter((row) => row.status !== 'failed');
      const perUser = new Map<string, number>();
      for (const row of rows) perUser.set(row.username, (perUser.get(row.username) ?? 0) + 1);
      const overlappingScans = overlaps(
        rows
          .filter((row) => row.startedAt && row.finishedAt)
          .map((row) => ({ key: row.username, start: row.startedAt!, end: row.finishedAt! })),
      );
      const runs = await executions(stack.client, `WorkflowType = "${workflowTypes.scanUser}"`);
      const overlappingRuns = overlaps(
        runs.map((run) => ({ key: run.workflowId, start: run.startTime, end: run.closeTime ?? new Date() })),
      );
      const outstandingLeft = await outstandingRequests(stack.pool);
      const scanned = users.filter((user) => (perUser.get(user) ?? 0) > 0).length;

      checks.equal('the two simultaneous sweeps claimed no user twice', claimedByBoth, 0);
      checks.equal('no two scans of one user overlap (xfc_scan intervals)', overlappingScans.length, 0);
      checks.equal('no two scanUser runs of one user overlap (Temporal)', overlappingRuns.length, 0);
      checks.equal('every user was scanned', scanned, userCount);
      checks.expect(
        'users were rescanned while sweeps went on (the test exercised concurrency)',
        rows.length > userCount,
        `${rows.length} scans of ${userCount} users`,
      );
      const maxScansPerUser = Math.max(0, ...perUser.values());
      return {
        summary:
          `${sweeps} sweeps (2 at once claimed ${first.claimed.length}+${second.claimed.length}, ${claimedByBoth} twice) ` +
          `and ${manualRequests} manual requests over ${seconds(sweepForMs)}: ${rows.length} scans of ${userCount} users ` +
          `(up to ${maxScansPerUser} each, ${runs.length} scanUser runs); overlapping scans of one user: ` +
          `${overlappingScans.length} (xfc_scan), ${overlappingRuns.length} (Temporal runs); ` +
          `${outstandingLeft} claim(s) left outstanding (joined a running scan)`,
        checks: checks.list,
        measured: {
          users: userCount,
          sweeps,
          pairClaimed: [first.claimed.length, second.claimed.length],
          claimedByBoth,
          manualRequests,
          scans: rows.length,
          usersScannedMoreThanOnce: [...perUser.values()].filter((n) => n > 1).length,
          maxScansPerUser,
          overlappingScans: overlappingScans.length,
          overlappingRuns: overlappingRuns.length,
          outstandingLeft,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
