import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scanRequestQueue } from '../../lib/amqp/topology.js';
import { management } from '../support/rabbitmq.js';
import { exampleMessage } from '../messages/examples.js';
import { closeConnectionsOf, waitFor } from './fixtures/broker.js';
import { startBridgeHarness, type BridgeHarness } from './fixtures/bridge-harness.js';

const request = (username: string, requestId: string): ReturnType<typeof exampleMessage<'scan.request'>> => ({
  ...exampleMessage('scan.request'),
  username,
  requestId,
});

describe('xfc bridge under faults (real RabbitMQ and Temporal)', () => {
  let h: BridgeHarness;

  before(async () => {
    // Retries up to 2 s apart: the 50 deliveries the queue allows outlast a slow Temporal restart (~90 s).
    // A Temporal server of its own: one test takes it down.
    h = await startBridgeHarness({ retry: { initialMs: 200, maxMs: 2_000 } }, { ownServer: true });
  });
  after(async () => {
    await h.stop();
  });

  it('reconnects after the broker closed its connection and loses nothing published around it', async () => {
    const users = Array.from({ length: 10 }, (_, i) => `user${i}`);
    for (const user of users.slice(0, 5)) await h.publisher.publish('scan.request', request(user, `manual-${user}`));
    assert.equal(await closeConnectionsOf(h.vhost.name, 'bridge'), 1);
    for (const user of users.slice(5)) await h.publisher.publish('scan.request', request(user, `manual-${user}`));
    await waitFor('the bridge to reconnect', () => h.bridge.stats.connections === 2 && h.bridge.stats.connected);
    for (const user of users) {
      await waitFor(`scan-${user} to run`, async () => (await h.statusOf(`scan-${user}`)) === 'RUNNING');
    }
    await waitFor('every delivery settled', async () => {
      const queue = await h.channel.checkQueue(scanRequestQueue);
      return h.bridge.stats.inFlight === 0 && queue.messageCount === 0;
    });
    assert.ok(h.logs.some((l) => l.event === 'amqp.disconnected'));
    assert.ok(h.logs.some((l) => l.event === 'amqp.reconnect-scheduled'));
    assert.equal(h.bridge.stats.deadLettered, 0);
  });

  it('declares the topology again when its queue disappeared, and goes on', async () => {
    const connections = h.bridge.stats.connections;
    await management('DELETE', `/api/queues/${encodeURIComponent(h.vhost.name)}/${scanRequestQueue}`);
    await waitFor(
      'the bridge to reconnect',
      () => h.bridge.stats.connections > connections && h.bridge.stats.connected,
    );
    const queue = await h.channel.checkQueue(scanRequestQueue);
    assert.equal(queue.consumerCount, 1, 'the bridge consumes the re-declared queue');
    await h.publisher.publish('scan.request', request('after-delete', 'manual-d1'));
    await waitFor('scan-after-delete to run', async () => (await h.statusOf('scan-after-delete')) === 'RUNNING');
  });

  it('while Temporal is unreachable, requests stay unacked and are started once it is back', async () => {
    const before = { ...h.bridge.stats };
    await h.temporal.down();
    await h.publisher.publish('scan.request', request('during-outage', 'manual-o1'));
    const failures = (): number =>
      h.logs.filter((l) => l.event === 'message.retry-later' && l.username === 'during-outage').length;
    await waitFor('two failed starts', () => failures() >= 2);
    assert.equal(h.bridge.stats.started, before.started, 'nothing was started or acked meanwhile');
    assert.ok(h.bridge.stats.requeued >= before.requeued + 1, 'the message was requeued, not acked');
    await h.temporal.up();
    await waitFor('the request to be started', () => h.bridge.stats.started === before.started + 1, 60_000).catch(
      (err: unknown) => {
        console.log(JSON.stringify(h.logs.slice(-10)), h.bridge.stats);
        throw err;
      },
    );
    const started = h.logs.find((l) => l.event === 'workflow.started' && l.username === 'during-outage');
    assert.ok(started, 'started after the outage');
    assert.ok(Number(started.deliveryCount) >= 2, 'it was redelivered, so it had not been acked');
    assert.equal(await h.statusOf('scan-during-outage'), 'RUNNING');
    assert.equal(h.bridge.stats.deadLettered, before.deadLettered);
    await waitFor('the queue to drain', async () => (await h.channel.checkQueue(scanRequestQueue)).messageCount === 0);
  });
});
