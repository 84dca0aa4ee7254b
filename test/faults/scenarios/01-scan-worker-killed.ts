import type { WalkChunkResult } from '../../../activities/scan.js';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { scanWorkflowId } from '../../../lib/temporal/names.js';
import { cleanWalk, registerUsers, workDirOf, writeBigTree } from '../harness/fixtures.js';
import { activityResults, historyOf, pendingActivities, scanRows, until } from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import { Checks, count, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

export interface ScanWorkerKilledMeasured {
  totalFiles: number;
  /** Files counted at the last heartbeat the scenario saw before the kill. */
  lastSeenHeartbeatFiles: number;
  /** Files in the checkpoint Temporal handed to the retry (its last recorded heartbeat). */
  resumedAtFiles: number;
  /** Walk rate (files/s) between heartbeats before the kill, throttled worker. */
  filesPerSecond: number;
  /** Time from the last recorded heartbeat to the kill. */
  msSinceHeartbeatAtKill: number;
  /** Files walked after the last recorded heartbeat, lost with the process and walked again: rate × that time. */
  redoneFiles: number;
  /** One heartbeat interval's worth of walking: rate × interval. */
  intervalFiles: number;
  heartbeatIntervalMs: number;
  /** The usual and the longest time between two heartbeats Temporal recorded before the kill. */
  medianHeartbeatGapMs: number;
  maxHeartbeatGapMs: number;
  resumedAttempt: number;
  /** From the kill to the scan's completion (heartbeat timeout + retry delay + rest of the walk). */
  recoveryMs: number;
  totalsMatchCleanWalk: boolean;
  scanRows: number;
}

const heartbeatIntervalMs = 1_000;

/**
 * 1. The scan worker is SIGKILLed mid-walk. Temporal notices after the heartbeat timeout and retries the walk on
 * the replacement worker, which resumes from the last heartbeat's checkpoint: the work redone is what the killed
 * worker walked after its last heartbeat, at most one heartbeat interval's worth.
 */
export const scanWorkerKilled: Scenario<ScanWorkerKilledMeasured> = {
  id: 1,
  name: 'scan worker SIGKILLed mid-walk',
  async run({ quick, note = () => undefined }) {
    const stack = await startFaultStack({
      env: {
        XFC_SCAN_HEARTBEAT_INTERVAL: `${heartbeatIntervalMs}ms`,
        XFC_SCAN_HEARTBEAT_TIMEOUT: '4s',
        XFC_SCAN_THREADS: '2',
      },
    });
    const checks = new Checks();
    try {
      const username = 'walker';
      const workDir = workDirOf(stack.root, 'vol1', username);
      const totalFiles = writeBigTree(workDir, { dirs: quick ? 100 : 200, filesPerDir: 1000 });
      await registerUsers(stack.pool, stack.root);
      await stack.start('control');
      await stack.start('bridge');
      const first = await stack.start('scan');
      // A loaded host: the walk takes long enough to be killed in the middle.
      const release = first.throttle(2);
      note(`walking ${count(totalFiles)} files with a throttled scan worker`);

      await requestScanViaQueue(stack.config, username);
      const handle = stack.client.workflow.getHandle(scanWorkflowId(username));
      const seen: Array<{ files: number; at: number }> = [];
      const observe = async (): Promise<void> => {
        const walk = (await pendingActivities(handle).catch(() => [])).find((a) => a.type === 'walkChunk');
        if (!walk?.heartbeat || !walk.lastHeartbeatAt) return;
        const at = walk.lastHeartbeatAt.getTime();
        if (seen.at(-1)?.at !== at) seen.push({ files: walk.heartbeat.progress.files, at });
      };
      // Kill once the walk has passed 40 % of the files or, on a host so loaded that the throttled walk crawls,
      // once it has made progress over 30 s of heartbeats: either way a crash in the middle of a walk. Not before
      // three heartbeats, whose cadence is checked (the native walker reaches 40 % within two on a quiet host).
      await until(
        'the walk to pass 40 % of the files (or to progress for 30 s)',
        async () => {
          await observe();
          const last = seen.at(-1);
          const first = seen.find((beat) => beat.files > 0);
          if (!last || !first || seen.length < 3) return false;
          return last.files >= totalFiles * 0.4 || (last.files > first.files && last.at - first.at >= 30_000);
        },
        180_000,
        20,
      );
      // Kill at a random moment of the heartbeat cycle that follows the latest recorded heartbeat, as a crash would
      // come. (Killing at a random wall-clock moment instead would also sample the late heartbeats of this throttled
      // host; their cadence is reported, and checked, separately.)
      const killAt = seen.at(-1)!.at + Math.random() * (heartbeatIntervalMs - 100);
      while (Date.now() < killAt) {
        await sleep(Math.min(20, killAt - Date.now()));
        await observe();
      }
      const killedAt = Date.now();
      first.kill('SIGKILL');
      release();
      const exit = await first.exited;
      checks.equal('the scan worker died of SIGKILL', exit, 'SIGKILL');

      // What Temporal kept: the last heartbeat it recorded, which the retry is given.
      const kept = (await pendingActivities(handle)).find((a) => a.type === 'walkChunk');
      const resumedAtFiles = kept?.heartbeat?.progress.files ?? 0;
      const lastHeartbeatAt = kept?.lastHeartbeatAt?.getTime() ?? killedAt;
      const lastSeen = seen.at(-1) ?? { files: 0, at: killedAt };
      const span = seen.length >= 2 ? (seen.at(-1)!.at - seen[0]!.at) / 1000 : 0;
      const filesPerSecond = span > 0 ? (seen.at(-1)!.files - seen[0]!.files) / span : 0;
      const msSinceHeartbeatAtKill = Math.max(0, killedAt - lastHeartbeatAt);
      // How regularly Temporal received heartbeats: a throttled SDK (by default 80 % of the heartbeat timeout)
      // would show here as gaps of several intervals, and make the checkpoint it holds that much older.
      const gaps = seen
        .slice(1)
        .map((beat, i) => beat.at - seen[i]!.at)
        .sort((a, b) => a - b);
      const maxHeartbeatGapMs = gaps.at(-1) ?? 0;
      const medianHeartbeatGapMs = gaps[Math.floor(gaps.length / 2)] ?? 0;
      const redoneFiles = Math.round((filesPerSecond * msSinceHeartbeatAtKill) / 1000);
      const intervalFiles = Math.round((filesPerSecond * heartbeatIntervalMs) / 1000);

      note('starting a replacement scan worker');
      await stack.start('scan');
      const result = await scanResult(handle);
      const recoveryMs = Date.now() - killedAt;
      checks.equal('the scan completed', result.type, 'scan.completed');
      if (result.type !== 'scan.completed') throw new Error(`scan ended as ${result.type}`);

      const chunks = activityResults<WalkChunkResult>(await historyOf(stack.client, handle.workflowId), 'walkChunk');
      const resumed = chunks.find((chunk) => chunk.result.resumedFromHeartbeat);
      checks.expect(
        'a retry resumed from the heartbeat checkpoint',
        resumed !== undefined && resumed.attempt >= 2,
        resumed ? `attempt ${resumed.attempt}` : 'no chunk resumed from a heartbeat',
      );
      checks.expect(
        'the checkpoint resumed from is no older than the last heartbeat seen before the kill',
        resumedAtFiles >= lastSeen.files && resumedAtFiles > 0 && resumedAtFiles < totalFiles,
        `resumed at ${count(resumedAtFiles)}, last seen ${count(lastSeen.files)}`,
      );
      checks.expect(
        'Temporal received a heartbeat (checkpoint) about every interval',
        // The median: on a host starved to 2 % of a CPU one beat may come late, but the cadence must be the interval's.
        seen.length >= 3 && medianHeartbeatGapMs <= 1.5 * heartbeatIntervalMs,
        `${seen.length} heartbeats seen, ${medianHeartbeatGapMs} ms apart (median), at most ${maxHeartbeatGapMs} ms ` +
          `(interval ${heartbeatIntervalMs} ms)`,
      );
      checks.expect(
        'work redone ≤ one heartbeat interval',
        filesPerSecond > 0 && redoneFiles <= intervalFiles,
        `${count(redoneFiles)} files (${msSinceHeartbeatAtKill} ms since the last heartbeat) vs ${count(intervalFiles)}`,
      );
      const reference = await cleanWalk(workDir, result.message.now);
      const totalsMatchCleanWalk =
        JSON.stringify(result.message.totals) === JSON.stringify(reference.totals) &&
        JSON.stringify(result.message.ageHistogram) === JSON.stringify(reference.ageHistogram);
      checks.expect('totals equal an uninterrupted walk', totalsMatchCleanWalk, `files ${result.message.totals.files}`);
      const rows = await until('the scan to be recorded', async () => {
        const found = await scanRows(stack.pool, username);
        return found.length > 0 ? found : undefined;
      });
      checks.equal('one scan recorded', rows.length, 1);
      checks.equal('recorded as complete', rows[0]?.status, 'complete');

      return {
        summary:
          `resumed at ${count(resumedAtFiles)} of ${count(totalFiles)} files; redone ${count(redoneFiles)} files ` +
          `(${msSinceHeartbeatAtKill} ms after the last heartbeat) ≤ 1 heartbeat interval (${count(intervalFiles)} files ` +
          `at ${count(Math.round(filesPerSecond))} files/s; heartbeats every ${medianHeartbeatGapMs} ms, ` +
          `at most ${maxHeartbeatGapMs}); ` +
          `retry attempt ${resumed?.attempt ?? '?'}; ` +
          `scan done ${seconds(recoveryMs)} after the kill; totals ${totalsMatchCleanWalk ? '=' : '≠'} clean walk`,
        checks: checks.list,
        measured: {
          totalFiles,
          lastSeenHeartbeatFiles: lastSeen.files,
          resumedAtFiles,
          filesPerSecond,
          msSinceHeartbeatAtKill,
          redoneFiles,
          intervalFiles,
          heartbeatIntervalMs,
          medianHeartbeatGapMs,
          maxHeartbeatGapMs,
          resumedAttempt: resumed?.attempt ?? 0,
          recoveryMs,
          totalsMatchCleanWalk,
          scanRows: rows.length,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
