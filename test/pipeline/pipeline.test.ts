import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { startBridge, type Bridge } from '../../lib/amqp/bridge.js';
import { createPublisher, type Publisher } from '../../lib/amqp/publisher.js';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import { silentLogger } from '../../lib/amqp/log.js';
import { KiB } from '../../lib/common/units.js';
import { applyWorkflowId, scanWorkflowId } from '../../lib/temporal/names.js';
import { closeConnectionsOf, waitFor } from '../amqp/fixtures/broker.js';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp.js';
import { registerUsersFromTree } from '../support/users.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { makeWorkDir } from '../support/trees.js';
import { scanResult } from '../../lib/temporal/scan-result.js';

const scanRow = z.object({ scanId: z.string(), requestId: z.string().nullable(), status: z.string() });

/**
 * The whole pipeline with nothing stood in: scan.request on RabbitMQ → bridge → scanUser on the scan worker →
 * scan.completed on RabbitMQ → bridge → applyScan → Postgres, and an email to a real SMTP server.
 */
describe('pipeline: RabbitMQ → Temporal → Postgres → SMTP', () => {
  let stack: TestStack;
  let smtp: TestSmtpServer;
  let bridge: Bridge;
  let publisher: Publisher;

  async function scansOf(username: string) {
    return stack.pool.any(sql.type(scanRow)`
      SELECT scan_id AS "scanId", request_id AS "requestId", status FROM xfc_scan WHERE username = ${username}`);
  }

  async function executions(workflowId: string): Promise<number> {
    let count = 0;
    for await (const _ of stack.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) count++;
    return count;
  }

  before(async () => {
    smtp = await startTestSmtp();
    stack = await startTestStack({ XFC_SMTP_URL: smtp.url, XFC_MAIL_FROM: 'JASMIN XFC <xfc@example.org>' });
    for (const name of ['alice', 'bob', 'carol']) makeWorkDir(stack.root, 'vol1', name);
    makeWorkDir(stack.root, 'vol2', 'hoarder', { dirs: 4, filesPerDir: 10, size: 8192 });
    await registerUsersFromTree(stack.pool, stack.root, { hoarder: 'hoarder@example.org' });
    // 320 KiB held against a 100 KiB hard quota: over.
    await stack.pool.query(
      sql.unsafe`UPDATE xfc_control_user SET hard_limit_size = ${String(100n * KiB)} WHERE name = 'hoarder'`,
    );
    await stack.startWorkers('all');
    bridge = startBridge({ config: stack.config, temporalClient: stack.client, logger: silentLogger });
    await bridge.ready;
    publisher = createPublisher(stack.config.amqpUrl);
  });

  after(async () => {
    await publisher?.close();
    await bridge?.stop();
    await stack?.stop();
    await smtp?.stop();
  });

  it('turns a scan.request into a recorded scan and updated usage', async () => {
    const { requestId } = await requestScanViaQueue(stack.config, 'alice');
    await waitFor('alice’s scan to be applied', async () => (await scansOf('alice')).length > 0, 60_000);
    const [scan] = await scansOf('alice');
    assert.equal(scan?.requestId, requestId);
    assert.equal(scan?.status, 'complete');
    const usage = await stack.pool.one(sql.type(z.object({ totalUsed: z.bigint() }))`
      SELECT total_used AS "totalUsed" FROM xfc_control_user WHERE name = 'alice'`);
    assert.equal(usage.totalUsed, 15_000n);
  });

  it('gives a duplicated request and a duplicated completion one scan and one application', async () => {
    const request = {
      version: 1 as const,
      requestId: 'duplicated-request-bob',
      username: 'bob',
      reason: 'sweep' as const,
      requestedAt: new Date().toISOString(),
    };
    await publisher.publish('scan.request', request);
    await publisher.publish('scan.request', request);
    await waitFor('bob’s scan to be applied', async () => (await scansOf('bob')).length > 0, 60_000);
    // The run's own result: it ends just after it has started the application, so wait for it here (a request
    // while it still runs would join it, and a handle read later would follow the next run).
    const result = await scanResult(stack.client.workflow.getHandle(scanWorkflowId('bob')));
    // The request again, after the scan finished: served already.
    await publisher.publish('scan.request', request);
    await waitFor('the last request to be handled', async () => {
      const latest = await scanResult(stack.client.workflow.getHandle(scanWorkflowId('bob')));
      return latest.type === 'duplicate';
    });
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    // The completion again, as a broker redelivery would bring it.
    await publisher.publish('scan.completed', result.message);
    await waitFor('the bridge to take the duplicate', () => bridge.stats.alreadyStarted >= 1);
    assert.equal((await scansOf('bob')).length, 1);
    assert.equal(await executions(applyWorkflowId(result.message.scanId)), 1);
  });

  it('emails an over-quota user once, and not again for a rescan at the same level', async () => {
    await requestScanViaQueue(stack.config, 'hoarder');
    const [mail] = await smtp.waitForMessages(1, 60_000);
    assert.ok(mail);
    assert.deepEqual(mail.envelope.to, ['hoarder@example.org']);
    assert.match(mail.raw, /No files will be deleted automatically/);

    await requestScanViaQueue(stack.config, 'hoarder');
    await waitFor('the second scan to be applied', async () => (await scansOf('hoarder')).length === 2, 60_000);
    const last = await stack.pool.one(sql.type(z.object({ scanId: z.string() }))`
      SELECT scan_id AS "scanId" FROM xfc_scan WHERE username = 'hoarder' ORDER BY applied_at DESC LIMIT 1`);
    await stack.client.workflow.getHandle(applyWorkflowId(last.scanId)).result();
    assert.equal(smtp.messages.length, 1);
  });

  it('goes on after RabbitMQ closes the bridge’s connection', async () => {
    const connectionsBefore = bridge.stats.connections;
    await closeConnectionsOf(stack.vhost.name, 'bridge');
    await requestScanViaQueue(stack.config, 'carol');
    await waitFor('carol’s scan to be applied', async () => (await scansOf('carol')).length > 0, 60_000);
    assert.ok(bridge.stats.connections > connectionsBefore, 'the bridge reconnected');
  });
});
