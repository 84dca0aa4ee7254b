import amqp from 'amqplib';
import { listDeadLetters } from '../../../lib/amqp/dead-letters.js';
import { createPublisher } from '../../../lib/amqp/publisher.js';
import { scanCompletedQueue, scanRequestQueue } from '../../../lib/amqp/topology.js';
import type { ScanCompleted, ScanRequest } from '../../../lib/messages/v1/index.js';
import { scanWorkflowId, workflowTypes } from '../../../lib/temporal/names.js';
import { spawnXfc } from '../../support/processes.js';
import { putOverQuota, registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import { executions, scanRows, until } from '../harness/observe.js';
import { jsonLines, sleep } from '../harness/processes.js';
import { Checks, type Scenario } from '../harness/scenario.js';
import { startFaultStack, type FaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

export interface DuplicatesMeasured {
  /** How often the one scan.request and the one scan.completed reached the bridge. */
  requestDeliveries: number;
  completionDeliveries: number;
  /** Dead letters replayed by `xfc amqp dead --requeue`. */
  replayed: number;
  scanRuns: number;
  scansThatWalked: number;
  scanRows: number;
  applyExecutions: number;
  emails: number;
  deadLettersLeft: number;
}

/**
 * 7. One request and one result, delivered again and again: the request published twice at once, again after its
 * scan ended; the result published again; then both dead-lettered by the broker (delivery limit, as after a long
 * outage) and replayed with `xfc amqp dead --requeue`. One scan walks, one row is recorded, one application runs,
 * one email goes.
 */
export const duplicatesAndReplays: Scenario<DuplicatesMeasured> = {
  id: 7,
  name: 'duplicate messages and replays',
  async run({ note = () => undefined }) {
    const stack = await startFaultStack({ smtp: true });
    const checks = new Checks();
    const publisher = createPublisher(stack.config.amqpUrl, { role: 'faults' });
    try {
      const username = 'echo';
      writeSmallTrees(stack.root, 'vol1', [username]);
      await registerUsers(stack.pool, stack.root, [username]);
      await putOverQuota(stack.pool, [username]);
      const [, firstBridge] = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      let bridge = firstBridge;

      const request: ScanRequest = {
        version: 1,
        requestId: 'faults-duplicated-request',
        username,
        reason: 'sweep',
        requestedAt: new Date().toISOString(),
      };
      note('the request twice at once');
      await Promise.all([publisher.publish('scan.request', request), publisher.publish('scan.request', request)]);
      const [row] = await until('the scan to be recorded', async () => {
        const rows = await scanRows(stack.pool, username);
        return rows.length > 0 ? rows : undefined;
      });
      const completed = await completionOf(stack, username, row!.scanId);
      note('the request again after its scan ended, and the result again');
      await publisher.publish('scan.request', request);
      await publisher.publish('scan.completed', completed);
      // 2 + 1 deliveries of the request, 1 + 1 of the result.
      await until('the bridge to take both', () => bridgeEvents(bridge.output()).received >= 5, 30_000);

      note('both dead-lettered by the broker (delivery limit), then replayed with `xfc amqp dead --requeue`');
      const earlierDeliveries = bridgeEvents(bridge.output());
      await bridge.stop();
      await publisher.publish('scan.request', request);
      await publisher.publish('scan.completed', completed);
      await exhaustDeliveries(stack.config.amqpUrl, 2);
      const dead = await listDeadLetters(stack.config.amqpUrl, { limit: 10 });
      checks.expect(
        'the broker dead-lettered both after the delivery limit',
        dead.length === 2 && dead.every((letter) => letter.reason === 'delivery_limit'),
        dead.map((letter) => `${letter.type}: ${letter.reason}`).join(', '),
      );
      bridge = await stack.start('bridge');
      const requeue = spawnXfc(['amqp', 'dead', '--requeue'], stack.env);
      const requeueExit = await requeue.exited;
      checks.expect(
        '`xfc amqp dead --requeue` put them back',
        requeueExit === 0 && /Requeued 2 message/.test(requeue.output()),
        `exit ${requeueExit}: ${requeue.output().trim().split('\n')[0] ?? ''}`,
      );
      await until('the bridge to take the replays', () => bridgeEvents(bridge.output()).received >= 2, 30_000);
      await until(
        'every scan run to end',
        async () =>
          (await executions(stack.client, `WorkflowId = "${scanWorkflowId(username)}" AND ExecutionStatus = "Running"`))
            .length === 0,
        30_000,
      );
      await sleep(2_000);

      const runs = await executions(stack.client, `WorkflowId = "${scanWorkflowId(username)}"`);
      const results = await Promise.all(
        runs.map((run) => scanResult(stack.client.workflow.getHandle(run.workflowId, run.runId))),
      );
      const scansThatWalked = results.filter((result) => result.type === 'scan.completed').length;
      const rows = await scanRows(stack.pool, username);
      const applies = await executions(stack.client, `WorkflowType = "${workflowTypes.applyScan}"`);
      const emails = stack.smtp!.messages.length;
      const deadLettersLeft = (await listDeadLetters(stack.config.amqpUrl, { limit: 10 })).length;
      const later = bridgeEvents(bridge.output());
      const requestDeliveries = 3 + 1;
      const completionDeliveries = 2 + 1;
      checks.equal('one scan walked', scansThatWalked, 1);
      checks.expect(
        'every other delivery of the request was recognised as served',
        results.every((result) => result.type === 'scan.completed' || result.type === 'duplicate'),
        results.map((result) => result.type).join(', '),
      );
      checks.equal('one scan recorded', rows.length, 1);
      checks.equal('one application', applies.length, 1);
      checks.equal('one email', emails, 1);
      checks.equal('xfc.dead empty again', deadLettersLeft, 0);
      checks.equal(
        'the bridge dead-lettered nothing and retried nothing',
        earlierDeliveries.deadLettered + earlierDeliveries.retried + later.deadLettered + later.retried,
        0,
      );
      return {
        summary:
          `request delivered ${requestDeliveries}× and result ${completionDeliveries}× (incl. ${dead.length} dead-lettered ` +
          `and replayed): ${runs.length} scan run(s), ${scansThatWalked} walked, ${rows.length} scan row, ` +
          `${applies.length} application, ${emails} email, xfc.dead ${deadLettersLeft === 0 ? 'empty' : `holds ${deadLettersLeft}`}`,
        checks: checks.list,
        measured: {
          requestDeliveries,
          completionDeliveries,
          replayed: dead.length,
          scanRuns: runs.length,
          scansThatWalked,
          scanRows: rows.length,
          applyExecutions: applies.length,
          emails,
          deadLettersLeft,
        },
      };
    } finally {
      await publisher.close();
      await stack.stop();
    }
  },
};

/** The scan.completed message the scan published, from the run that walked. */
async function completionOf(stack: FaultStack, username: string, scanId: string): Promise<ScanCompleted> {
  for (const run of await executions(stack.client, `WorkflowId = "${scanWorkflowId(username)}"`)) {
    const result = await scanResult(stack.client.workflow.getHandle(run.workflowId, run.runId));
    if (result.type === 'scan.completed' && result.message.scanId === scanId) return result.message;
  }
  throw new Error(`no run of ${scanWorkflowId(username)} published scan ${scanId}`);
}

function bridgeEvents(output: string): { received: number; deadLettered: number; retried: number } {
  const lines = jsonLines(output);
  const count = (event: string): number => lines.filter((line) => line.event === event).length;
  return {
    received: count('workflow.started') + count('workflow.already-started') + count('message.dead-lettered'),
    deadLettered: count('message.dead-lettered'),
    retried: count('message.retry-later'),
  };
}

/**
 * A consumer that refuses every delivery (nack, requeue) until the broker gives up on them at the queue's delivery
 * limit and dead-letters them, as it would after a long Temporal outage; resolves once xfc.dead holds `expected`.
 */
async function exhaustDeliveries(amqpUrl: string, expected: number): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(10);
    for (const queue of [scanRequestQueue, scanCompletedQueue]) {
      await channel.consume(queue, (message) => {
        if (message) channel.nack(message, false, true);
      });
    }
    await until(
      `${expected} messages in xfc.dead`,
      async () => (await listDeadLetters(amqpUrl, { limit: 10 })).length >= expected,
      60_000,
      200,
    );
  } finally {
    await connection.close();
  }
}
