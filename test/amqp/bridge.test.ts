import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  deadDetailHeader,
  deadReasonHeader,
  listDeadLetters,
  originalSizeHeader,
} from '../../lib/amqp/dead-letters.js';
import { deadQueue, mainExchange, scanCompletedQueue, scanRequestQueue } from '../../lib/amqp/topology.js';
import type { ScanUserInput } from '../../lib/temporal/contracts.js';
import { exampleMessage } from '../messages/examples.js';
import { waitFor } from './fixtures/broker.js';
import { startBridgeHarness, type BridgeHarness } from './fixtures/bridge-harness.js';

const request = (username: string, requestId: string): ReturnType<typeof exampleMessage<'scan.request'>> => ({
  ...exampleMessage('scan.request'),
  username,
  requestId,
});

describe('xfc bridge (real RabbitMQ and Temporal, stand-in workflows)', () => {
  let h: BridgeHarness;

  before(async () => {
    h = await startBridgeHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('a scan.request starts scan-<user> with the request as input, then acks', async () => {
    await h.publisher.publish('scan.request', request('alice', 'manual-a1'));
    await waitFor('scan-alice to run', async () => (await h.statusOf('scan-alice')) === 'RUNNING');
    await waitFor('the stand-in scan to record its input', () => h.worker.calls.some((c) => c.workflow === 'scanUser'));
    const input = h.worker.calls.find((c) => c.workflow === 'scanUser')?.input as ScanUserInput;
    assert.deepEqual(input.request, request('alice', 'manual-a1'));
    await waitFor('the ack', () => h.bridge.stats.inFlight === 0 && h.bridge.stats.started === 1);
    assert.equal((await h.channel.checkQueue(scanRequestQueue)).messageCount, 0);
    const started = h.logs.find((l) => l.event === 'workflow.started');
    assert.equal(started?.username, 'alice');
    assert.equal(started?.messageId, 'manual-a1');
    assert.equal(started?.workflowId, 'scan-alice');
  });

  it('a duplicated request gives one scan execution (USE_EXISTING), both deliveries acked', async () => {
    const before = { ...h.bridge.stats };
    await h.publisher.publish('scan.request', request('bob', 'sweep-b1'));
    await h.publisher.publish('scan.request', request('bob', 'sweep-b1')); // the same message, published twice
    await h.publisher.publish('scan.request', request('bob', 'manual-b2')); // another request, same user
    await waitFor(
      'three deliveries settled',
      () => h.bridge.stats.received - before.received === 3 && h.bridge.stats.inFlight === 0,
    );
    assert.equal(h.bridge.stats.started - before.started, 1);
    assert.equal(h.bridge.stats.alreadyStarted - before.alreadyStarted, 2);
    assert.equal(await h.statusOf('scan-bob'), 'RUNNING');
    await waitFor('visibility to list scan-bob', async () => (await h.executionsOf('scan-bob')) >= 1);
    assert.equal(await h.executionsOf('scan-bob'), 1);
    assert.equal(h.worker.calls.filter((c) => (c.input as ScanUserInput).request?.username === 'bob').length, 1);
    assert.equal((await h.channel.checkQueue(scanRequestQueue)).messageCount, 0);
  });

  it('a duplicated scan.completed is applied once; a scan.failed starts applyScan too', async () => {
    const completed = { ...exampleMessage('scan.completed'), scanId: 'scan-id-c1', username: 'carol' };
    const failed = { ...exampleMessage('scan.failed'), scanId: 'scan-id-f1', username: 'dave' };
    await h.publisher.publish('scan.completed', completed);
    await waitFor('apply-scan-id-c1 to complete', async () => (await h.statusOf('apply-scan-id-c1')) === 'COMPLETED');
    await h.publisher.publish('scan.completed', completed); // replayed after the application finished
    await h.publisher.publish('scan.failed', failed);
    await waitFor('apply-scan-id-f1 to complete', async () => (await h.statusOf('apply-scan-id-f1')) === 'COMPLETED');
    await waitFor('all settled', () => h.bridge.stats.inFlight === 0);
    const applied = h.worker.calls.filter((c) => c.workflow === 'applyScan').map((c) => c.input);
    assert.deepEqual(applied, [
      { type: 'scan.completed', message: completed },
      { type: 'scan.failed', message: failed },
    ]);
    await waitFor('visibility to list apply-scan-id-c1', async () => (await h.executionsOf('apply-scan-id-c1')) >= 1);
    assert.equal(await h.executionsOf('apply-scan-id-c1'), 1);
    assert.ok(h.logs.some((l) => l.event === 'workflow.already-started' && l.workflowId === 'apply-scan-id-c1'));
    assert.equal((await h.channel.checkQueue(scanCompletedQueue)).messageCount, 0);
  });

  it('poison messages go to xfc.dead with the reason, are never requeued, and the bridge keeps working', async () => {
    const before = { ...h.bridge.stats };
    const json = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));
    const poison: Array<{ key: string; content: Buffer; type?: string; reason: string; detail: RegExp }> = [
      {
        key: 'scan.request',
        content: Buffer.from('{"version": 1, "username": '),
        reason: 'not-json',
        detail: /not UTF-8 JSON/,
      },
      {
        key: 'scan.request',
        content: Buffer.alloc(1024 * 1024 + 1, 0x20),
        reason: 'too-large',
        detail: /1048577 bytes/,
      },
      {
        key: 'scan.request',
        content: json({ version: 2, requestId: 'v2', username: 'erin' }),
        reason: 'unsupported-version',
        detail: /version 2/,
      },
      {
        key: 'scan.request',
        type: 'scan.cancel',
        content: json(request('erin', 'x1')),
        reason: 'unknown-type',
        detail: /scan\.cancel/,
      },
      {
        key: 'scan.completed',
        type: 'scan.request',
        content: json(request('erin', 'x2')),
        reason: 'unknown-type',
        detail: /scan\.request/,
      },
      {
        key: 'scan.request',
        content: json(request('../etc', 'x3')),
        reason: 'invalid-message',
        detail: /username: "\.\.\/etc" is a path/,
      },
    ];
    for (const [i, p] of poison.entries()) {
      h.channel.publish(mainExchange, p.key, p.content, {
        messageId: `poison-${i}`,
        contentType: 'application/json',
        headers: { 'x-origin': 'test' },
        ...(p.type ? { type: p.type } : {}),
      });
    }
    await waitFor(
      'all poison dead-lettered',
      () => h.bridge.stats.deadLettered - before.deadLettered === poison.length,
    );
    assert.equal(h.bridge.stats.requeued, before.requeued, 'nothing was requeued');
    assert.equal(h.bridge.stats.started, before.started, 'nothing was started');
    assert.equal(await h.statusOf('scan-erin'), undefined);
    assert.equal((await h.channel.checkQueue(scanRequestQueue)).messageCount, 0);
    assert.equal((await h.channel.checkQueue(scanCompletedQueue)).messageCount, 0);

    // The raw dead letters keep the original's headers, routing key and message id, plus the reason.
    const raw = [];
    for (let m = await h.channel.get(deadQueue); m; m = await h.channel.get(deadQueue)) raw.push(m);
    h.channel.nackAll(true); // put them back for the listing below
    assert.equal(raw.length, poison.length);
    for (const message of raw) {
      const i = Number(String(message.properties.messageId).replace('poison-', ''));
      const p = poison[i]!;
      const headers = message.properties.headers ?? {};
      assert.equal(headers[deadReasonHeader], p.reason, `poison-${i}`);
      assert.match(String(headers[deadDetailHeader]), p.detail);
      assert.equal(headers['x-origin'], 'test');
      assert.equal(message.fields.routingKey, p.key);
      if (p.reason === 'too-large') {
        assert.equal(headers[originalSizeHeader], 1024 * 1024 + 1);
        assert.equal(message.content.length, 64 * 1024);
      } else assert.deepEqual(message.content, p.content);
    }
    const listed = await listDeadLetters(h.vhost.url, { limit: 100 });
    assert.deepEqual(listed.map((l) => l.reason).sort(), poison.map((p) => p.reason).sort());

    // And the bridge goes on.
    await h.publisher.publish('scan.request', request('frank', 'manual-f1'));
    await waitFor('scan-frank to run', async () => (await h.statusOf('scan-frank')) === 'RUNNING');
  });

  it('stop() cancels the consumers and closes; later messages wait in the queue', async () => {
    await h.bridge.stop();
    assert.equal(h.bridge.stats.connected, false);
    assert.ok(h.logs.some((l) => l.event === 'bridge.stopped'));
    await h.publisher.publish('scan.request', request('gina', 'manual-g1'));
    const queue = await h.channel.checkQueue(scanRequestQueue);
    assert.equal(queue.consumerCount, 0);
    assert.equal(queue.messageCount, 1);
    assert.equal(await h.statusOf('scan-gina'), undefined);
  });
});
