import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import type { ScanCompleted } from '../../../lib/messages/v1/index.js';
import { scanWorkflowId } from '../../../lib/temporal/names.js';
import { cleanWalk, registerUsers, workDirOf, writeBigTree } from '../harness/fixtures.js';
import { pendingActivities, scanRows, until } from '../harness/observe.js';
import type { RunAs } from '../harness/processes.js';
import { Checks, count, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

export interface TreeChangesMeasured {
  /** Who the scan worker ran as ("nobody (65534)", or "root" when the scenario could not drop privileges). */
  scanWorkerUser: string;
  /** Files counted when the tree was changed, of all. */
  changedAtFiles: number;
  totalFiles: number;
  status: string;
  errors: ScanCompleted['errors'];
  /** Files and bytes counted against what the changed tree holds that the scan worker may read. */
  files: number;
  expectedFiles: number;
  bytes: string;
  expectedBytes: string;
  /** Bytes of the directory outside the tree that a symlink pointed to: never to be counted. */
  outsideBytes: number;
}

const nobody: RunAs = { uid: 65534, gid: 65534 };

/** Root ignores file permissions: drop to nobody when we can (root and setpriv), else say so. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return spawnSync('setpriv', ['--version']).status === 0 ? nobody : undefined;
}

/**
 * 9. The tree changes while a (throttled) scan worker walks it: a directory is deleted, files are deleted, a
 * directory's permissions are removed, and a directory is replaced by a symbolic link to a directory outside the
 * tree. The scan counts what vanished and what it could not read, never follows the link, and ends `partial`, with
 * exactly the files of the changed tree that its user may read. The scan worker runs as `nobody` (setpriv), since
 * root reads everything.
 */
export const treeChanges: Scenario<TreeChangesMeasured> = {
  id: 9,
  name: 'the tree changes under the scanner',
  async run({ quick, note = () => undefined }) {
    const runAs = unprivilegedUser();
    const stack = await startFaultStack({
      env: { XFC_SCAN_HEARTBEAT_INTERVAL: '500ms', XFC_SCAN_HEARTBEAT_TIMEOUT: '5s', XFC_SCAN_THREADS: '2' },
    });
    const checks = new Checks();
    const workDir = workDirOf(stack.root, 'vol1', 'shifty');
    const outside = join(dirname(stack.root), `${stack.db.name}-outside`);
    try {
      const dirs = quick ? 100 : 200;
      const totalFiles = writeBigTree(workDir, { dirs, filesPerDir: 1000 });
      // The work directory's ancestors (mkdtemp makes them 0700) must be passable for the unprivileged worker.
      chmodSync(stack.root, 0o755);
      mkdirSync(outside, { recursive: true });
      for (let i = 0; i < 500; i++) writeFileSync(join(outside, `secret${i}`), Buffer.alloc(7777, 115));
      const outsideBytes = 500 * 7777;
      await registerUsers(stack.pool, stack.root);
      const [, , scanWorker] = await Promise.all([
        stack.start('control'),
        stack.start('bridge'),
        stack.start('scan', runAs ? { runAs } : {}),
      ]);
      const release = scanWorker.throttle(2);

      await requestScanViaQueue(stack.config, 'shifty');
      const handle = stack.client.workflow.getHandle(scanWorkflowId('shifty'));
      const changedAtFiles = await until(
        'the walk to pass 15 % of the files',
        async () => {
          const walk = (await pendingActivities(handle).catch(() => [])).find((a) => a.type === 'walkChunk');
          const files = walk?.heartbeat?.progress.files ?? 0;
          return files >= totalFiles * 0.15 ? files : undefined;
        },
        120_000,
        50,
      );
      // Directories late in the walk's order (names sorted), far past where it is now (the native walker statts
      // up to ~30,000 entries ahead of what it has accounted, and walks tens of thousands of files per heartbeat).
      const late = (n: number): string => join(workDir, `d${String(dirs - 10 + n).padStart(3, '0')}`);
      rmSync(late(0), { recursive: true });
      const thinned = readdirSync(late(1)).slice(0, 500);
      for (const name of thinned) rmSync(join(late(1), name));
      chmodSync(late(2), 0o000);
      rmSync(late(3), { recursive: true });
      symlinkSync(outside, late(3));
      note(`changed the tree at ${count(changedAtFiles)} files walked`);
      release();

      const result = await scanResult(handle);
      if (result.type !== 'scan.completed') throw new Error(`the scan ended as ${result.type}`);
      const { message } = result;
      // What is there now, read by root (the symlink is not followed); the worker may not read the 000 directory.
      const reference = await cleanWalk(workDir, message.now);
      const locked = runAs ? await lockedContent(late(2), message.now) : { files: 0, bytes: 0n };
      const expectedFiles = reference.totals.files - locked.files;
      const expectedBytes = BigInt(reference.totals.bytes) - locked.bytes;
      const rows = await until('the scan to be recorded', async () => {
        const found = await scanRows(stack.pool, 'shifty');
        return found.length > 0 ? found : undefined;
      });

      const { errors } = message;
      const samples = (kind: string): string[] => errors.samples.filter((s) => s.kind === kind).map((s) => s.path);
      const name = (n: number): string => `d${String(dirs - 10 + n).padStart(3, '0')}`;
      checks.equal('the scan ends partial', message.status, 'partial');
      checks.expect(
        'the deleted directory and the one swapped for a symlink count as vanished',
        errors.vanished >= 2 && samples('vanished').includes(name(0)) && samples('vanished').includes(name(3)),
        `vanished ${errors.vanished}: ${samples('vanished').join(', ')}`,
      );
      if (runAs) {
        checks.expect(
          'the directory without permissions counts as unreadable',
          errors.unreadable === 1 && samples('unreadable').includes(name(2)),
          `unreadable ${errors.unreadable}: ${samples('unreadable').join(', ')}`,
        );
      }
      checks.equal('files: exactly those of the changed tree it may read', message.totals.files, expectedFiles);
      checks.equal(
        'bytes: the same, so nothing behind the symlink was counted',
        message.totals.bytes,
        String(expectedBytes),
      );
      checks.equal('recorded once, as partial', rows.map((r) => r.status).join(','), 'partial');
      return {
        summary:
          `changed at ${count(changedAtFiles)} of ${count(totalFiles)} files (1 dir deleted, 500 files deleted, ` +
          `1 dir chmod 000, 1 dir → symlink outside); scan worker as ${runAs ? 'nobody' : 'root (permissions not tested)'}; ` +
          `${message.status}: vanished ${errors.vanished}, unreadable ${errors.unreadable}, other ${errors.otherErrors}; ` +
          `${count(message.totals.files)} files = expected ${count(expectedFiles)}; symlink not followed ` +
          `(${count(outsideBytes)} bytes outside not counted)`,
        checks: checks.list,
        measured: {
          scanWorkerUser: runAs ? `nobody (${runAs.uid})` : 'root',
          changedAtFiles,
          totalFiles,
          status: message.status,
          errors,
          files: message.totals.files,
          expectedFiles,
          bytes: message.totals.bytes,
          expectedBytes: String(expectedBytes),
          outsideBytes,
        },
      };
    } finally {
      rmSync(outside, { recursive: true, force: true });
      await stack.stop();
    }
  },
};

/** What a directory holds, walked by root (which ignores its permissions). */
async function lockedContent(dir: string, now: string): Promise<{ files: number; bytes: bigint }> {
  const report = await cleanWalk(dir, now);
  return { files: report.totals.files, bytes: BigInt(report.totals.bytes) };
}
