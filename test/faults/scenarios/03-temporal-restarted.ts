import type { WalkChunkResult } from '../../../activities/scan.js';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { scanWorkflowId } from '../../../lib/temporal/names.js';
import type { ScanUserResult } from '../../../lib/temporal/contracts.js';
import { cleanWalk, registerUsers, workDirOf, writeBigTree } from '../harness/fixtures.js';
import { activityResults, historyOf, pendingActivities, scanRows, until } from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import { Checks, count, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

export interface TemporalRestartMeasured {
  totalFiles: number;
  /** Files counted at the last heartbeat before the server went down. */
  filesAtOutage: number;
  /** Files at the first heartbeat the restarted server recorded; undefined if the walk had ended by then. */
  filesAfterUp: number | undefined;
  outageMs: number;
  /** From the server being up again to the scan recorded in Postgres. */
  completionAfterUpMs: number;
  walkChunks: number;
  walkAttempts: number;
  totalsMatchCleanWalk: boolean;
  scanRows: number;
  processesAlive: boolean;
}

/**
 * 3. The Temporal server (dev server, SQLite file) is stopped in the middle of a scan and started again on the same
 * port and database. The workers and the bridge reconnect by themselves; the scan completes, with the totals of an
 * uninterrupted walk, and is recorded once.
 */
export const temporalRestarted: Scenario<TemporalRestartMeasured> = {
  id: 3,
  name: 'Temporal server restarted mid-scan',
  async run({ quick, note = () => undefined }) {
    const outageMs = quick ? 5_000 : 20_000;
    const stack = await startFaultStack({
      env: { XFC_SCAN_HEARTBEAT_INTERVAL: '1s', XFC_SCAN_HEARTBEAT_TIMEOUT: '10s', XFC_SCAN_THREADS: '2' },
      ownTemporal: true,
    });
    const checks = new Checks();
    try {
      const username = 'patient';
      const workDir = workDirOf(stack.root, 'vol1', username);
      const totalFiles = writeBigTree(workDir, { dirs: quick ? 100 : 200, filesPerDir: 1000 });
      await registerUsers(stack.pool, stack.root);
      note('starting the control worker, the bridge and the scan worker');
      const processes = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      note('started');
      // Slow enough that the walk is still going when the server comes back.
      const release = processes[2].throttle(1);

      await requestScanViaQueue(stack.config, username);
      const handle = stack.client.workflow.getHandle(scanWorkflowId(username));
      const filesAtOutage = await until(
        'the walk to pass 20 % of the files',
        async () => {
          const walk = (await pendingActivities(handle).catch(() => [])).find((a) => a.type === 'walkChunk');
          const files = walk?.heartbeat?.progress.files ?? 0;
          return files >= totalFiles * 0.2 ? files : undefined;
        },
        120_000,
        50,
      );
      note(`Temporal down at ${count(filesAtOutage)} files for ${seconds(outageMs)}`);
      await stack.temporal.down();
      await sleep(outageMs);
      await stack.temporal.up();
      const upAt = Date.now();
      note('Temporal up again');
      // Where the walk is once the worker's heartbeats reach the new server (undefined: it had finished).
      const filesAfterUp = await until(
        'the walk to report again (or end)',
        async () => {
          const description = await handle.describe().catch(() => undefined);
          if (!description) return undefined;
          if (description.status.name !== 'RUNNING') return { files: undefined };
          const walk = (await pendingActivities(handle)).find((a) => a.type === 'walkChunk');
          const files = walk?.heartbeat?.progress.files;
          return files !== undefined && files > filesAtOutage ? { files } : undefined;
        },
        120_000,
      );
      release();

      const result = (await until('the scan to end', () => scanResult(handle).catch(() => undefined), 300_000)) as
        ScanUserResult | undefined;
      checks.equal('the scan completed', result?.type, 'scan.completed');
      if (result?.type !== 'scan.completed') throw new Error(`the scan ended as ${result?.type}`);
      const rows = await until('the scan to be recorded', async () => {
        const found = await scanRows(stack.pool, username);
        return found.length > 0 ? found : undefined;
      });
      const completionAfterUpMs = Date.now() - upAt;
      const chunks = activityResults<WalkChunkResult>(await historyOf(stack.client, handle.workflowId), 'walkChunk');
      const reference = await cleanWalk(workDir, result.message.now);
      const totalsMatchCleanWalk = JSON.stringify(result.message.totals) === JSON.stringify(reference.totals);
      const processesAlive = processes.every((p) => p.alive());
      checks.expect('totals equal an uninterrupted walk', totalsMatchCleanWalk, `files ${result.message.totals.files}`);
      checks.equal('one scan recorded', rows.length, 1);
      checks.equal('recorded as complete', rows[0]?.status, 'complete');
      checks.expect(
        'control worker, scan worker and bridge rode it out (no process exited)',
        processesAlive,
        processes.map((p) => `${p.role} ${p.alive() ? 'running' : 'exited'}`).join(', '),
      );
      const walkAttempts = chunks.reduce((sum, chunk) => sum + chunk.attempt, 0);
      return {
        summary:
          `down ${seconds(outageMs)} at ${count(filesAtOutage)} of ${count(totalFiles)} files; ` +
          (filesAfterUp.files === undefined
            ? 'walk ended while it was down; '
            : `walk heartbeating again at ${count(filesAfterUp.files)} files; `) +
          `scan recorded ` +
          `${seconds(completionAfterUpMs)} after the server was back (${chunks.length} walk chunk(s), ` +
          `${walkAttempts} attempt(s)); totals ${totalsMatchCleanWalk ? '=' : '≠'} clean walk; ${rows.length} scan row(s); ` +
          `${processesAlive ? 'no process exited' : 'A PROCESS EXITED'}`,
        checks: checks.list,
        measured: {
          totalFiles,
          filesAtOutage,
          filesAfterUp: filesAfterUp.files,
          outageMs,
          completionAfterUpMs,
          walkChunks: chunks.length,
          walkAttempts,
          totalsMatchCleanWalk,
          scanRows: rows.length,
          processesAlive,
        },
      };
    } finally {
      await stack.temporal.up().catch(() => undefined);
      await stack.stop();
    }
  },
};
