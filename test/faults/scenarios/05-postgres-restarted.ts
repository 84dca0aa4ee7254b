import { workflowTypes } from '../../../lib/temporal/names.js';
import { putOverQuota, registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import {
  activityAttempts,
  executions,
  historyOf,
  outstandingRequests,
  scansPerUser,
  until,
} from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import {
  describeLedger,
  ledger,
  ledgerChecks,
  startSweep,
  waitUntilScanned,
  type Ledger,
} from '../harness/pipeline.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { restartPostgres } from '../harness/services.js';
import { startFaultStack } from '../harness/stack.js';

export interface PostgresRestartMeasured {
  /** Users recorded before the restart, of all. */
  recordedBefore: number;
  unavailableMs: number;
  drainedAfterMs: number;
  /** Activity attempts beyond the first, over every applyScan and scanUser run: the retries the outage caused. */
  applyRetries: number;
  scanRetries: number;
  /** Emails the SMTP server accepted while PostgreSQL was gone, recorded afterwards by recordNotificationSent. */
  recordedLater: number;
  ledger: Ledger;
  processesAlive: boolean;
}

/**
 * 5. The real PostgreSQL cluster is restarted (`pg_ctlcluster … stop`, then start) while a sweep's results are
 * being applied. Activities fail while it is down and are retried; no process crashes; every scan is applied once
 * and every email that was due is sent once.
 *
 * This restarts the PostgreSQL of the whole machine: every other session on it is terminated too.
 */
export const postgresRestarted: Scenario<PostgresRestartMeasured> = {
  id: 5,
  name: 'PostgreSQL restarted during applies',
  async run({ quick, note = () => undefined }) {
    const userCount = quick ? 16 : 40;
    const downMs = quick ? 2_000 : 15_000;
    // Just before the restart the SMTP server holds its replies, and gives them once PostgreSQL is down: those
    // emails are accepted while the database is gone (the moment that once sent an email twice).
    let holdReplies: { until: Promise<void>; release: () => void } | undefined;
    const stack = await startFaultStack({
      smtp: { beforeAccept: () => holdReplies?.until ?? Promise.resolve() },
    });
    const checks = new Checks();
    try {
      const users = Array.from({ length: userCount }, (_, i) => `user${String(i).padStart(3, '0')}`);
      const overQuota = users.filter((_, i) => i % 4 === 0);
      writeSmallTrees(stack.root, 'vol1', users);
      await registerUsers(stack.pool, stack.root, users);
      await putOverQuota(stack.pool, overQuota);
      const processes = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      // Results arrive a few at a time, so that applies are under way when the database goes.
      const releaseScanWorker = processes[2].throttle(5);

      await startSweep(stack, userCount);
      await until(
        'a quarter of the users to be recorded',
        async () => {
          const n = (await scansPerUser(stack.pool)).size;
          return n >= userCount / 4 ? n : undefined;
        },
        120_000,
        50,
      );
      let release = (): void => undefined;
      const replies = new Promise<void>((resolve) => (release = resolve));
      holdReplies = { until: replies, release };
      const mail = stack.smtp!.messages;
      const mailBefore = mail.length;
      const held = await until('an email to arrive (its reply held)', () => mail.length > mailBefore, 120_000, 50);
      const recordedAtRestart = (await scansPerUser(stack.pool)).size;
      note(`restarting PostgreSQL with ${recordedAtRestart} of ${userCount} users recorded and an email's reply held`);
      const restart = await restartPostgres(downMs, () => {
        holdReplies?.release();
        holdReplies = undefined;
      });
      const upAt = Date.now();
      releaseScanWorker();
      note(`PostgreSQL back after ${seconds(restart.unavailableMs)}`);

      await waitUntilScanned(stack, users, 300_000);
      const drainedAfterMs = Date.now() - upAt;
      await until(
        'no request to remain outstanding',
        async () => (await outstandingRequests(stack.pool)) === 0,
        120_000,
      );
      await until(
        'every application to finish (emails sent)',
        async () =>
          (
            await executions(
              stack.client,
              `WorkflowType = "${workflowTypes.applyScan}" AND ExecutionStatus = "Running"`,
            )
          ).length === 0,
        300_000,
        500,
      );
      await sleep(2_000);
      const entry = await ledger(stack, users, overQuota);
      for (const check of ledgerChecks(entry)) checks.expect(check.what, check.ok, check.detail);

      let applyRetries = 0;
      let scanRetries = 0;
      let recordedLater = 0;
      for (const run of await executions(stack.client, 'ExecutionStatus != "Running"')) {
        const attempts = activityAttempts(await historyOf(stack.client, run.workflowId, run.runId));
        if (run.type === workflowTypes.applyScan) applyRetries += attempts.retries;
        if (run.type === workflowTypes.scanUser) scanRetries += attempts.retries;
        recordedLater += attempts.scheduled.get('recordNotificationSent') ?? 0;
      }
      checks.expect(
        'the outage made activities fail and retry (it hit work in progress)',
        applyRetries + scanRetries > 0,
        `${applyRetries} apply and ${scanRetries} scan activity retries`,
      );
      checks.expect(
        'an email accepted while PostgreSQL was down was recorded afterwards, not sent again',
        held && recordedLater >= 1,
        `${recordedLater} recorded afterwards`,
      );
      const processesAlive = processes.every((p) => p.alive());
      checks.expect(
        'no process crashed',
        processesAlive,
        processes.map((p) => `${p.role} ${p.alive() ? 'running' : `exited: ${p.output().slice(-500)}`}`).join(', '),
      );
      return {
        summary:
          `down ${seconds(restart.unavailableMs)} with ${recordedAtRestart}/${userCount} recorded; ` +
          `${applyRetries} apply + ${scanRetries} scan activity retries; ${recordedLater} email(s) accepted while it ` +
          `was down, recorded afterwards; all recorded ${seconds(drainedAfterMs)} ` +
          `after it was back; ${describeLedger(entry)}; ${processesAlive ? 'no process crashed' : 'A PROCESS CRASHED'}`,
        checks: checks.list,
        measured: {
          recordedBefore: recordedAtRestart,
          unavailableMs: restart.unavailableMs,
          drainedAfterMs,
          applyRetries,
          scanRetries,
          recordedLater,
          ledger: entry,
          processesAlive,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
