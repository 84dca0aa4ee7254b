import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startBridge } from '../../lib/amqp/bridge.js';
import { listDeadLetters } from '../../lib/amqp/dead-letters.js';
import type { LogFields } from '../../lib/amqp/log.js';
import { createPublisher } from '../../lib/amqp/publisher.js';
import { deliveryLimit, scanRequestQueue } from '../../lib/amqp/topology.js';
import { loadConfig } from '../../lib/config/env.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { freePort } from '../support/ports.js';
import { exampleMessage } from '../messages/examples.js';
import { waitFor } from './fixtures/broker.js';
import amqp from 'amqplib';

/** A bridge whose Temporal never answers (nothing listens on the port): every start fails. */
describe('xfc bridge with Temporal unreachable', () => {
  let vhost: TestVhost;
  let client: Client;

  before(async () => {
    vhost = await createTestVhost('xfc-unreachable');
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    client = new Client({ connection });
  });
  after(async () => {
    await client.connection.close();
    await vhost.delete();
  });

  async function queued(): Promise<number> {
    const connection = await amqp.connect(vhost.url);
    try {
      return (await (await connection.createChannel()).checkQueue(scanRequestQueue)).messageCount;
    } finally {
      await connection.close();
    }
  }

  it('stop() does not wait out a retry delay: the held message goes back to the queue at once', async () => {
    const logs: Array<LogFields & { event: string }> = [];
    const bridge = startBridge({
      config: loadConfig({ XFC_AMQP_URL: vhost.url }),
      temporalClient: client,
      logger: (_level, event, fields = {}) => logs.push({ ...fields, event }),
      retry: { initialMs: 60_000, maxMs: 60_000 },
      startTimeoutMs: 500,
    });
    await bridge.ready;
    const publisher = createPublisher(vhost.url);
    await publisher.publish('scan.request', exampleMessage('scan.request'));
    await publisher.close();
    await waitFor('a failed start', () => logs.some((l) => l.event === 'message.retry-later'));
    assert.equal(logs.find((l) => l.event === 'message.retry-later')?.delayMs, 60_000);
    const stopping = Date.now();
    await bridge.stop();
    assert.ok(Date.now() - stopping < 5_000, `stop took ${Date.now() - stopping} ms`);
    assert.equal(bridge.stats.requeued, 1);
    assert.equal(bridge.stats.started, 0);
    assert.equal(await queued(), 1, 'the request waits in the queue for the next bridge');
  });

  it(`after ${deliveryLimit + 1} failed deliveries the broker dead-letters the request (delivery_limit)`, async () => {
    const bridge = startBridge({
      config: loadConfig({ XFC_AMQP_URL: vhost.url }),
      temporalClient: client,
      logger: () => undefined,
      retry: { initialMs: 5, maxMs: 10 },
      startTimeoutMs: 100,
    });
    try {
      await bridge.ready;
      await waitFor(
        'the request to be dead-lettered',
        async () => (await listDeadLetters(vhost.url, { limit: 5 })).length === 1,
        60_000,
      );
      const [letter] = await listDeadLetters(vhost.url, { limit: 5 });
      assert.equal(letter?.reason, 'delivery_limit');
      assert.equal(letter?.from, scanRequestQueue);
      assert.equal(letter?.messageId, exampleMessage('scan.request').requestId);
      // Deliveries 1 to 50 came here (delivery 0 was the first test's): the broker's count bounded the retries.
      assert.equal(bridge.stats.requeued, deliveryLimit);
      assert.equal(bridge.stats.deadLettered, 0, 'the bridge itself dead-letters only what it cannot parse');
    } finally {
      await bridge.stop();
    }
  });
});
