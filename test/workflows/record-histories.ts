/**
 * Records one history of each workflow path into test/workflows/histories/, for replay.test.ts. Run it after an
 * intended, compatible change to a workflow (or to add a path):
 *
 *     node --import tsx test/workflows/record-histories.ts [name …]
 *
 * With names, only those histories are written (the others stay as recorded by earlier code, which is the point).
 *
 * Committed histories are what running workflows in production look like; replaying them against the current code
 * is how CI notices a change that would break workflows already in flight (non-determinism).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { sql } from 'slonik';
import { KiB } from '../../lib/common/units.js';
import { startApplyWorkflow, startScanWorkflow } from '../../lib/temporal/starters.js';
import type { ScanOutcome, ScanUserResult } from '../../lib/temporal/contracts.js';
import { startTestSmtp } from '../support/smtp.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { makeWorkDir } from '../support/trees.js';
import { insertUser, registerUsersFromTree } from '../support/users.js';
import { scanResult } from '../../lib/temporal/scan-result.js';

const outDir = fileURLToPath(new URL('./histories', import.meta.url));
const { History } = proto.temporal.api.history.v1;

/** Plain JSON (64-bit numbers as strings, bytes as base64, enums by name); replay.test.ts reads it back. */
function historyToObject(history: proto.temporal.api.history.v1.IHistory): object {
  return History.toObject(History.fromObject(history), { longs: String, bytes: String, enums: String });
}

async function run(): Promise<void> {
  // The email to `late` finds PostgreSQL gone when the server accepts it (for 3 s), so its applyScan records the
  // send in a later activity.
  const database: { of?: TestStack['db'] } = {};
  const smtp = await startTestSmtp({
    beforeAccept: async (mail) => {
      const db = database.of;
      if (!db || !mail.envelope.to.includes('late@example.org')) return;
      await db.setReachable(false);
      setTimeout(() => void db.setReachable(true), 3_000);
    },
  });
  // Tiny chunks so a scan takes several walk activities, as a large one does in production.
  const stack = await startTestStack({ XFC_SMTP_URL: smtp.url, XFC_SCAN_CHUNK: '1s' });
  database.of = stack.db;
  try {
    makeWorkDir(stack.root, 'vol1', 'alice', { dirs: 30, filesPerDir: 200, size: 100 });
    makeWorkDir(stack.root, 'vol1', 'hoarder', { dirs: 2, filesPerDir: 10, size: 8192 });
    makeWorkDir(stack.root, 'vol1', 'late', { dirs: 2, filesPerDir: 10, size: 8192 });
    makeWorkDir(stack.root, 'vol2', 'bob');
    await registerUsersFromTree(stack.pool, stack.root, {
      hoarder: 'hoarder@example.org',
      late: 'late@example.org',
    });
    await stack.pool.query(
      sql.unsafe`UPDATE xfc_control_user SET hard_limit_size = ${String(64n * KiB)} WHERE name IN ('hoarder', 'late')`,
    );
    await insertUser(stack.pool, { name: 'ghost', mountpoint: join(stack.root, 'vol1') });
    await stack.startWorkers('all');

    const only = process.argv.slice(2);
    const save = async (name: string, workflowId: string): Promise<void> => {
      if (only.length > 0 && !only.includes(name)) return;
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(historyToObject(history), null, 1)}\n`);
      console.log(`recorded ${name} (${history.events?.length ?? 0} events)`);
    };
    const scan = async (username: string, requestId: string): Promise<ScanUserResult> => {
      const request = {
        version: 1 as const,
        requestId,
        username,
        reason: 'manual' as const,
        requestedAt: new Date().toISOString(),
      };
      const started = await startScanWorkflow(stack.client, stack.config, request);
      return await scanResult(stack.client.workflow.getHandle(started.workflowId));
    };
    const apply = async (outcome: ScanOutcome): Promise<string> => {
      const started = await startApplyWorkflow(stack.client, stack.config, outcome);
      await stack.client.workflow.getHandle(started.workflowId).result();
      return started.workflowId;
    };

    const alice = await scan('alice', 'record-alice');
    // Since a control step starts the application (patch 'apply-started-by-control-step'). The histories recorded
    // before it are kept beside these: scan-user-complete.json and scan-user-failed.json (before the hand-off to
    // applyScan, patch 'apply-in-temporal'), the *-handoff.json ones and the apply-scan-*.json ones without the
    // -local suffix (remote control activities), and the *-local ones of scanUser (local control steps, the
    // application started as a child) are what runs from before look like.
    await save('scan-user-complete-apply-step', 'scan-alice');
    if (alice.type !== 'scan.completed') throw new Error(`alice: ${alice.type}`);
    await save('apply-scan-no-email-local', await apply(alice));

    const hoarder = await scan('hoarder', 'record-hoarder');
    if (hoarder.type !== 'scan.completed') throw new Error(`hoarder: ${hoarder.type}`);
    await save('apply-scan-email-local', await apply(hoarder));

    const late = await scan('late', 'record-late');
    if (late.type !== 'scan.completed') throw new Error(`late: ${late.type}`);
    await save('apply-scan-email-recorded-later-local', await apply(late));

    const ghost = await scan('ghost', 'record-ghost');
    // The run fails after its scan.failed (patch 'xfc-scan-failed-fails-workflow'); scan-user-failed-local.json
    // (local steps, run completed), scan-user-failed-ends-failed.json (remote steps, run failed) and
    // scan-user-failed-local-ends-failed.json (the application started as a child) are what failed runs from before
    // look like.
    await save('scan-user-failed-apply-step', 'scan-ghost');
    if (ghost.type !== 'scan.failed') throw new Error(`ghost: ${ghost.type}`);
    await save('apply-scan-failed-local', await apply(ghost));

    await scan('alice', 'record-alice');
    await save('scan-user-duplicate-local', 'scan-alice');

    const sweep = await stack.client.workflow.start('sweep', {
      workflowId: 'sweep-record',
      taskQueue: stack.config.temporal.controlTaskQueue,
      args: [{}],
    });
    await sweep.result();
    await save('sweep', 'sweep-record');
  } finally {
    await stack.stop();
    await smtp.stop();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
