import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import { listDeadLetters } from '../../../lib/amqp/dead-letters.js';
import { createPublisher, type Publisher } from '../../../lib/amqp/publisher.js';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { deadLetterExchange } from '../../../lib/amqp/topology.js';
import { recordIssuedScan } from '../../../db/scan-authority.js';
import type { ScanCompleted } from '../../../lib/messages/v1/index.js';
import { applyWorkflowId, scanWorkflowId } from '../../../lib/temporal/names.js';
import { spawnXfc } from '../../support/processes.js';
import { registerUsers, workDirOf, writeSmallTrees } from '../harness/fixtures.js';
import { activityAttempts, executions, historyOf, scanRows, until, usageOf } from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import { Checks, type Scenario } from '../harness/scenario.js';
import { startFaultStack, type FaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

export interface ForgedResultsMeasured {
  /** Dead letters by reason after the forged results and their requeue. */
  deadLetters: Record<string, number>;
  /** Whether any forged result moved the victim's usage or wrote a scan row. */
  victimTouched: boolean;
  /** Applications started for forged scan ids. */
  forgedApplications: number;
  victimAppliedAfterwards: boolean;
  /** The sparse user's scan rows (status/reason) and how often the recording was retried. */
  sparseRows: string[];
  sparseRecordRetries: number;
  sparseUsageMoved: boolean;
  bystanderApplied: boolean;
}

/**
 * 12. A hostile publisher and a hostile user (issue 13), against real processes: forged scan.completed messages
 * (unsigned; signed as if the key had leaked, with an unknown scan id, another user's running scan, the wrong
 * directory, a `now` in 2099; one published straight to xfc.dlx) are dead-lettered with their reasons, checked again
 * after `xfc amqp dead --requeue`, and change nothing; the victim's real scan then applies. A tree of two 4 EiB
 * sparse files (2^63 apparent bytes, beyond bigint) ends as one failed scan, out-of-range, without a retry, and
 * the next user's scan is unaffected.
 */
export const forgedResults: Scenario<ForgedResultsMeasured> = {
  id: 12,
  name: 'forged results and figures beyond bigint',
  async run({ note = () => undefined }) {
    const stack = await startFaultStack();
    const checks = new Checks();
    const unsigned = createPublisher(stack.config.amqpUrl, { role: 'forger' });
    const leaked = createPublisher(stack.config.amqpUrl, { role: 'forger', signingKey: stack.config.resultSigningKey });
    try {
      writeSmallTrees(stack.root, 'vol1', ['victim', 'neighbour', 'bystander']);
      writeSmallTrees(stack.root, 'vol2', ['sparse']);
      const sparseDir = workDirOf(stack.root, 'vol2', 'sparse');
      execFileSync('truncate', ['-s', '4E', join(sparseDir, 'huge-1'), join(sparseDir, 'huge-2')]);
      await registerUsers(stack.pool, stack.root);
      await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);

      note('a real scan of the neighbour, as the template of the forgeries');
      const template = await scanThrough(stack, 'neighbour');
      const victimDir = workDirOf(stack.root, 'vol1', 'victim');
      // Scans that are running (issued, no application yet): the moment a forger would aim at.
      await recordIssuedScan(stack.pool, { scanId: 'running-victim', username: 'victim', workDir: victimDir });
      await recordIssuedScan(stack.pool, {
        scanId: 'running-neighbour',
        username: 'neighbour',
        workDir: template.workDir,
      });
      const victimBefore = await usageOf(stack.pool, 'victim');
      const forged = (scanId: string, fields: Partial<ScanCompleted> = {}): ScanCompleted => ({
        ...template,
        scanId,
        requestId: `forged-${scanId}`,
        username: 'victim',
        workDir: victimDir,
        totals: { ...template.totals, bytes: '0', temporalByteDays: '0' },
        ...fields,
      });
      const cases: Array<[Publisher, ScanCompleted, string]> = [
        [unsigned, forged('forged-unknown'), 'unauthenticated'],
        [unsigned, forged('running-victim'), 'unauthenticated'],
        [leaked, forged('forged-unknown-signed'), 'unknown-scan'],
        [leaked, forged('running-neighbour'), 'wrong-user'],
        [leaked, forged('running-victim', { workDir: template.workDir }), 'work-dir-mismatch'],
        [leaked, forged('running-victim', { now: '2099-01-01T00:00:00.000Z' }), 'clock-ahead'],
      ];
      note('six forged results on xfc, one straight to xfc.dlx');
      for (const [i, [publisher, message]] of cases.entries()) {
        await publisher.publish('scan.completed', message, { messageId: `forged-${i}` });
      }
      const connection = await amqp.connect(stack.config.amqpUrl);
      const channel = await connection.createChannel();
      channel.publish(deadLetterExchange, 'scan.completed', Buffer.from(JSON.stringify(forged('via-dlx'))), {
        messageId: 'forged-via-dlx',
        type: 'scan.completed',
        contentType: 'application/json',
        headers: { 'x-first-death-reason': 'delivery_limit' },
      });
      await channel.close();
      await connection.close();
      const expectedDead = cases.length + 1;
      await until(
        'the forgeries to be dead-lettered',
        async () => (await listDeadLetters(stack.config.amqpUrl, { limit: 50 })).length === expectedDead,
        60_000,
        500,
      );
      note('`xfc amqp dead --requeue`: every one is checked again as new');
      const requeue = spawnXfc(['amqp', 'dead', '--requeue'], stack.env);
      const requeueExit = await requeue.exited;
      checks.expect('`xfc amqp dead --requeue` put them back', requeueExit === 0, `exit ${requeueExit}`);
      await sleep(3_000);
      const letters = await until(
        'the requeued copies to be dead-lettered again',
        async () => {
          const listed = await listDeadLetters(stack.config.amqpUrl, { limit: 50 });
          return listed.length === expectedDead ? listed : undefined;
        },
        60_000,
        500,
      );
      const deadLetters: Record<string, number> = {};
      for (const letter of letters) deadLetters[letter.reason] = (deadLetters[letter.reason] ?? 0) + 1;
      const expected: Record<string, number> = {};
      for (const [, , reason] of cases) expected[reason] = (expected[reason] ?? 0) + 1;
      expected.unauthenticated = (expected.unauthenticated ?? 0) + 1;
      checks.expect(
        'every forgery ends in xfc.dead with its reason, after the requeue too',
        JSON.stringify(sorted(deadLetters)) === JSON.stringify(sorted(expected)),
        JSON.stringify(sorted(deadLetters)),
      );
      const victimAfterForgeries = await usageOf(stack.pool, 'victim');
      const victimRows = await scanRows(stack.pool, 'victim');
      const victimTouched =
        victimRows.length > 0 || JSON.stringify(victimAfterForgeries, big) !== JSON.stringify(victimBefore, big);
      checks.equal('the forgeries changed nothing', victimTouched, false);
      let forgedApplications = 0;
      for (const id of ['forged-unknown', 'forged-unknown-signed', 'running-victim', 'running-neighbour', 'via-dlx']) {
        forgedApplications += (await executions(stack.client, `WorkflowId = "${applyWorkflowId(id)}"`)).length;
      }
      checks.equal('no application started for a forged scan id', forgedApplications, 0);

      note('the victim’s real scan, the sparse tree, a bystander');
      const real = await scanThrough(stack, 'victim');
      const victimAfter = await usageOf(stack.pool, 'victim');
      const victimAppliedAfterwards = victimAfter.totalUsed === BigInt(real.totals.bytes);
      checks.equal('the victim’s real scan applies', victimAppliedAfterwards, true);

      const sparseBefore = await usageOf(stack.pool, 'sparse');
      const sparse = await scanThrough(stack, 'sparse');
      checks.equal('the walk measured 2^63 + 15,000 apparent bytes', sparse.totals.bytes, String(2n ** 63n + 15_000n));
      await sleep(3_000); // time for a retry loop to show itself, if there were one
      const rows = await scanRows(stack.pool, 'sparse');
      const sparseRows = rows.map((row) => `${row.status}/${row.failureReason ?? '-'}`);
      checks.expect('one failed scan, out-of-range', sparseRows.join() === 'failed/out-of-range', sparseRows.join());
      const attempts = activityAttempts(await historyOf(stack.client, applyWorkflowId(sparse.scanId)));
      const sparseRecordRetries =
        (attempts.byType.get('recordScan') ?? 0) - (attempts.scheduled.get('recordScan') ?? 0);
      checks.equal('recorded without a retry', sparseRecordRetries, 0);
      const sparseUsageMoved =
        JSON.stringify(await usageOf(stack.pool, 'sparse'), big) !== JSON.stringify(sparseBefore, big);
      checks.equal('the sparse user’s usage stays as it was', sparseUsageMoved, false);
      const bystander = await scanThrough(stack, 'bystander');
      const bystanderApplied = (await usageOf(stack.pool, 'bystander')).totalUsed === BigInt(bystander.totals.bytes);
      checks.equal('the next user’s scan applies', bystanderApplied, true);

      return {
        summary:
          `${letters.length} forged results dead-lettered (${Object.entries(sorted(deadLetters))
            .map(([reason, n]) => `${reason} ${n}`)
            .join(', ')}), requeued and refused again; victim ${victimTouched ? 'TOUCHED' : 'untouched'}, its real ` +
          `scan ${victimAppliedAfterwards ? 'applied' : 'NOT applied'}; 2^63-byte sparse tree: ${sparseRows.join(', ')}, ` +
          `${sparseRecordRetries} retries; bystander ${bystanderApplied ? 'applied' : 'NOT applied'}`,
        checks: checks.list,
        measured: {
          deadLetters,
          victimTouched,
          forgedApplications,
          victimAppliedAfterwards,
          sparseRows,
          sparseRecordRetries,
          sparseUsageMoved,
          bystanderApplied,
        },
      };
    } finally {
      await unsigned.close();
      await leaked.close();
      await stack.stop();
    }
  },
};

/** Requests a scan through RabbitMQ (as the sweep does) and waits for its application to end. */
async function scanThrough(stack: FaultStack, username: string): Promise<ScanCompleted> {
  const { requestId } = await requestScanViaQueue(stack.config, username);
  const message = await until(
    `the scan of ${username}`,
    async () => {
      for (const run of await executions(stack.client, `WorkflowId = "${scanWorkflowId(username)}"`)) {
        const handle = stack.client.workflow.getHandle(run.workflowId, run.runId);
        if ((await handle.describe()).status.name !== 'COMPLETED') continue;
        const result = await scanResult(handle);
        if (result.type === 'scan.completed' && result.message.requestId === requestId) return result.message;
      }
      return undefined;
    },
    120_000,
    500,
  );
  await stack.client.workflow.getHandle(applyWorkflowId(message.scanId)).result();
  return message;
}

function sorted(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
