import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { sql } from 'slonik';
import { z } from 'zod';
import { startBridge, type Bridge } from '../../lib/amqp/bridge.js';
import { listDeadLetters, requeueDeadLetters, type DeadLetter } from '../../lib/amqp/dead-letters.js';
import { silentLogger } from '../../lib/amqp/log.js';
import { createPublisher, type Publisher } from '../../lib/amqp/publisher.js';
import { deadLetterExchange } from '../../lib/amqp/topology.js';
import { recordIssuedScan, verifyScanResult } from '../../db/scan-authority.js';
import { recentScans } from '../../db/scans.js';
import type { ScanCompleted } from '../../lib/messages/v1/index.js';
import { applyWorkflowId } from '../../lib/temporal/names.js';
import { startScanWorkflow } from '../../lib/temporal/starters.js';
import type { ApplyScanResult, ScanUserResult } from '../../lib/temporal/contracts.js';
import { startTestStack, testSigningKey, type TestStack } from '../support/stack.js';
import { makeWorkDir } from '../support/trees.js';
import { registerUsersFromTree } from '../support/users.js';
import { waitFor } from './fixtures/broker.js';
import { scanResult } from '../../lib/temporal/scan-result.js';
import { activityAttempts } from '../faults/harness/observe.js';

const usageRow = z.object({ totalUsed: z.bigint(), quotaUsed: z.bigint(), lastScanned: z.date().nullable() });

function request(username: string, requestId: string) {
  return {
    version: 1 as const,
    requestId,
    username,
    reason: 'manual' as const,
    requestedAt: new Date().toISOString(),
  };
}

/**
 * Issue 13, as a hostile publisher would try it, with the bridge running against real RabbitMQ, Temporal and
 * PostgreSQL: forged results change nothing and end in xfc.dead with their reasons (a requeue checks them again);
 * xfc's own scans still apply; a sparse tree whose apparent size is beyond bigint ends as one failed scan.
 */
describe('only xfc’s own scans change usage (real RabbitMQ, Temporal, PostgreSQL)', () => {
  let stack: TestStack;
  let bridge: Bridge;
  let signed: Publisher;
  let unsigned: Publisher;
  let connection: ChannelModel;
  let channel: Channel;

  before(async () => {
    stack = await startTestStack();
    for (const name of ['victim', 'other', 'bystander']) makeWorkDir(stack.root, 'vol1', name);
    // Two 4 EiB sparse files (tmpfs allows them; ext4 stops at 16 TiB): 2^63 apparent bytes, nothing allocated.
    const sparse = makeWorkDir(stack.root, 'vol2', 'sparse', { dirs: 1, filesPerDir: 1, size: 10 });
    execFileSync('truncate', ['-s', '4E', join(sparse, 'huge-1'), join(sparse, 'huge-2')]);
    await registerUsersFromTree(stack.pool, stack.root);
    await stack.startWorkers('all');
    bridge = startBridge({
      config: stack.config,
      temporalClient: stack.client,
      logger: silentLogger,
      verifyResult: (claims) => verifyScanResult(stack.pool, claims),
    });
    await bridge.ready;
    signed = createPublisher(stack.config.amqpUrl, { signingKey: testSigningKey });
    unsigned = createPublisher(stack.config.amqpUrl);
    connection = await amqp.connect(stack.config.amqpUrl);
    channel = await connection.createChannel();
  });

  after(async () => {
    await bridge?.stop();
    await signed?.close();
    await unsigned?.close();
    await connection?.close().catch(() => undefined);
    await stack?.stop();
  });

  // last_scanned is xfc's copy (xfc_user_state): on the app's master Django's column does not exist (issue 14).
  const usage = (name: string): Promise<z.infer<typeof usageRow>> =>
    stack.pool.one(sql.type(usageRow)`
      SELECT u.total_used AS "totalUsed", u.quota_used AS "quotaUsed", s.last_scanned AS "lastScanned"
      FROM xfc_control_user u LEFT JOIN xfc_user_state s ON s.user_id = u.id WHERE u.name = ${name}`);

  /** Runs scan-<user> to its end; its application was started by the scan itself (no bridge involved). */
  async function scan(username: string): Promise<{ result: ScanUserResult; applied: ApplyScanResult }> {
    const started = await startScanWorkflow(
      stack.client,
      stack.config,
      request(username, `manual-${username}-${Date.now()}`),
    );
    const result = await scanResult(stack.client.workflow.getHandle(started.workflowId));
    if (result.type === 'duplicate') throw new Error('unexpected duplicate');
    const applied = (await stack.client.workflow
      .getHandle(applyWorkflowId(result.message.scanId))
      .result()) as ApplyScanResult;
    return { result, applied };
  }

  let otherScan: ScanCompleted;

  it('applies xfc’s own scan through Temporal; its published copy starts nothing more', async () => {
    const before = bridge.stats.alreadyStarted;
    const { result, applied } = await scan('other');
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    otherScan = result.message;
    assert.equal(applied.applied, true);
    assert.equal((await usage('other')).totalUsed, BigInt(result.message.totals.bytes));
    await waitFor('the bridge to see the published copy', () => bridge.stats.alreadyStarted > before);
  });

  it('dead-letters forged results with their reasons and changes nothing', async () => {
    const victimBefore = await usage('victim');
    const workDir = join(stack.root, 'vol1', 'user_cache', 'victim');
    // Scans "in progress": issued by xfc, not finished, so no application exists yet (the race a forger would try).
    await recordIssuedScan(stack.pool, { scanId: 'running-victim', username: 'victim', workDir });
    await recordIssuedScan(stack.pool, {
      scanId: 'running-other',
      username: 'other',
      workDir: otherScan.workDir,
    });
    const forged = (scanId: string, fields: Partial<ScanCompleted> = {}): ScanCompleted => ({
      ...otherScan,
      scanId,
      requestId: `forged-${scanId}`,
      username: 'victim',
      workDir,
      totals: { ...otherScan.totals, bytes: '1', temporalByteDays: '1' },
      ...fields,
    });
    const cases: Array<{ id: string; publisher: Publisher; message: ScanCompleted; reason: string }> = [
      { id: 'unsigned-unknown', publisher: unsigned, message: forged('forged-1'), reason: 'unauthenticated' },
      {
        id: 'unsigned-real-id',
        publisher: unsigned,
        message: forged('running-victim'),
        reason: 'unauthenticated',
      },
      { id: 'signed-unknown', publisher: signed, message: forged('forged-2'), reason: 'unknown-scan' },
      { id: 'signed-other-user', publisher: signed, message: forged('running-other'), reason: 'wrong-user' },
      {
        id: 'signed-wrong-dir',
        publisher: signed,
        message: forged('running-victim', { workDir: otherScan.workDir }),
        reason: 'work-dir-mismatch',
      },
      {
        id: 'signed-future',
        publisher: signed,
        message: forged('running-victim', { now: '2099-01-01T00:00:00.000Z' }),
        reason: 'clock-ahead',
      },
    ];
    const deadBefore = bridge.stats.deadLettered;
    for (const c of cases) await c.publisher.publish('scan.completed', c.message, { messageId: c.id });
    // Straight to the dead-letter exchange, dressed as a message the broker gave up on, then requeued.
    channel.publish(deadLetterExchange, 'scan.completed', Buffer.from(JSON.stringify(forged('forged-3'))), {
      messageId: 'via-dlx',
      type: 'scan.completed',
      contentType: 'application/json',
      headers: { 'x-first-death-reason': 'delivery_limit', 'x-xfc-signature': 'v1=' + '0'.repeat(64) },
    });
    await waitFor(
      'the forged results to be dead-lettered',
      () => bridge.stats.deadLettered - deadBefore === cases.length,
    );
    const requeue = await requeueDeadLetters(stack.config.amqpUrl, { limit: 100 });
    assert.equal(requeue.requeued.length, cases.length + 1, 'every dead letter, the one from xfc.dlx included');
    await waitFor(
      'the requeued copies to be checked again',
      () => bridge.stats.deadLettered - deadBefore === 2 * cases.length + 1,
    );

    let letters: DeadLetter[] = [];
    await waitFor('xfc.dead to hold them all', async () => {
      letters = await listDeadLetters(stack.config.amqpUrl, { limit: 100 });
      return letters.length === cases.length + 1;
    });
    const reasons: Record<string, string> = Object.fromEntries(
      letters.map((letter): [string, string] => [letter.messageId ?? '', letter.reason]),
    );
    assert.deepEqual(reasons, {
      ...Object.fromEntries(cases.map((c) => [c.id, c.reason])),
      'via-dlx': 'unauthenticated',
    });
    assert.deepEqual(await usage('victim'), victimBefore, 'the victim’s usage and last_scanned are untouched');
    assert.deepEqual(await recentScans(stack.pool, 'victim', 10), [], 'no scan row for the victim');
    for (const id of ['forged-1', 'forged-2', 'forged-3', 'running-victim', 'running-other']) {
      await assert.rejects(stack.client.workflow.getHandle(applyWorkflowId(id)).describe(), `no apply-${id}`);
    }
  });

  it('applies the victim’s real scan afterwards', async () => {
    const { result, applied } = await scan('victim');
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    assert.equal(applied.applied, true);
    const after = await usage('victim');
    assert.equal(after.totalUsed, BigInt(result.message.totals.bytes));
    assert.equal(after.lastScanned?.toISOString(), result.message.now);
  });

  it('ends a tree beyond bigint as one failed scan (out-of-range), no retry, other users unaffected', async () => {
    const before = await usage('sparse');
    const { result, applied } = await scan('sparse');
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    assert.equal(result.message.totals.bytes, String(2n ** 63n + 10n), 'the walk measured the sparse files exactly');
    assert.equal(result.message.totals.allocatedBytes.length <= 6, true, 'almost nothing is allocated');
    assert.deepEqual(applied, { applied: true, notification: 'none' });
    const rows = await recentScans(stack.pool, 'sparse', 10);
    assert.deepEqual(
      rows.map((row) => [row.status, row.failureReason]),
      [['failed', 'out-of-range']],
    );
    assert.match(rows[0]?.failureMessage ?? '', /more than PostgreSQL's bigint holds/);
    assert.deepEqual(await usage('sparse'), before);
    // One attempt of the recording step (a local activity: its marker carries the attempt): the application ended,
    // it did not retry.
    const history = await stack.client.workflow.getHandle(applyWorkflowId(result.message.scanId)).fetchHistory();
    const attempts = activityAttempts(history.events ?? []);
    assert.equal(attempts.scheduled.get('recordScan'), 1);
    assert.equal(attempts.byType.get('recordScan'), 1);
    assert.equal(attempts.retries, 0);
    const description = await stack.client.workflow.getHandle(applyWorkflowId(result.message.scanId)).describe();
    assert.equal(description.status.name, 'COMPLETED');

    const bystander = await scan('bystander');
    assert.equal(bystander.applied.applied, true);
    assert.equal(
      (await usage('bystander')).totalUsed,
      bystander.result.type === 'scan.completed' ? BigInt(bystander.result.message.totals.bytes) : -1n,
    );
  });
});
