import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { createPublisher, InvalidMessageError, PublishError, type Publisher } from '../../lib/amqp/publisher.js';
import { mainExchange, scanCompletedQueue, scanRequestQueue } from '../../lib/amqp/topology.js';
import { createTestVhost, management, type TestVhost } from '../support/rabbitmq.js';
import { closeConnectionsOf, waitFor } from './fixtures/broker.js';
import { exampleMessage } from '../messages/examples.js';

describe('createPublisher (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let publisher: Publisher;
  let connection: ChannelModel;
  let channel: Channel;

  before(async () => {
    vhost = await createTestVhost('xfc-publisher');
    publisher = createPublisher(vhost.url);
    connection = await amqp.connect(vhost.url);
    channel = await connection.createChannel();
  });
  after(async () => {
    await publisher.close();
    await connection.close();
    await vhost.delete();
  });

  it('publishes persistent JSON with a deterministic message id, type and content type, once confirmed', async () => {
    const request = exampleMessage('scan.request');
    await publisher.publish('scan.request', request);
    // Resolved means confirmed: the message is in the queue now, with no waiting.
    const message = await channel.get(scanRequestQueue, { noAck: true });
    assert.ok(message, 'the confirmed message is in xfc.scan.request');
    assert.equal(message.properties.deliveryMode, 2);
    assert.equal(message.properties.messageId, request.requestId);
    assert.equal(message.properties.type, 'scan.request');
    assert.equal(message.properties.contentType, 'application/json');
    assert.equal(message.properties.appId, 'xfc');
    assert.equal(message.fields.exchange, mainExchange);
    assert.equal(message.fields.routingKey, 'scan.request');
    assert.deepEqual(JSON.parse(message.content.toString('utf8')), request);
  });

  it('uses the scan id as message id of scan.completed and scan.failed', async () => {
    const completed = exampleMessage('scan.completed');
    const failed = exampleMessage('scan.failed');
    await publisher.publish('scan.completed', completed);
    await publisher.publish('scan.failed', failed);
    const first = await channel.get(scanCompletedQueue, { noAck: true });
    const second = await channel.get(scanCompletedQueue, { noAck: true });
    assert.ok(first && second);
    assert.deepEqual(
      [first.properties.messageId, first.properties.type, second.properties.messageId, second.properties.type],
      [completed.scanId, 'scan.completed', failed.scanId, 'scan.failed'],
    );
  });

  it('refuses an invalid body before publishing anything', async () => {
    const request = { ...exampleMessage('scan.request'), username: '../etc' };
    await assert.rejects(publisher.publish('scan.request', request), (err: Error) => {
      assert.ok(err instanceof InvalidMessageError);
      assert.match(err.message, /username: "\.\.\/etc" is a path/);
      return true;
    });
    assert.equal(await channel.get(scanRequestQueue, { noAck: true }), false);
  });

  it('rejects an unroutable message (mandatory) instead of losing it silently', async () => {
    await publisher.publish('scan.request', exampleMessage('scan.request')); // the publisher's channel is open
    await channel.get(scanRequestQueue, { noAck: true });
    await channel.unbindQueue(scanRequestQueue, mainExchange, 'scan.request');
    try {
      await assert.rejects(
        publisher.publish('scan.request', { ...exampleMessage('scan.request'), requestId: 'manual-unroutable' }),
        (err: Error) => err instanceof PublishError && /unroutable/.test(err.message),
      );
    } finally {
      await channel.bindQueue(scanRequestQueue, mainExchange, 'scan.request');
    }
    assert.equal(await channel.get(scanRequestQueue, { noAck: true }), false);
  });

  it('rejects when the broker nacks (the queue refuses the message), and only then', async () => {
    // A length limit by policy makes the quorum queue refuse publishes (x-overflow reject-publish). The policy
    // reaches the queue asynchronously, so publish until the broker starts refusing.
    const policy = `/api/policies/${encodeURIComponent(vhost.name)}/full`;
    await management('PUT', policy, {
      pattern: `^${scanRequestQueue.replaceAll('.', '\\.')}$`,
      'apply-to': 'queues',
      definition: { 'max-length': 1 },
    });
    const confirmed: string[] = [];
    let refusal: Error | undefined;
    try {
      for (let i = 0; i < 100 && !refusal; i++) {
        const requestId = `manual-${i}`;
        try {
          await publisher.publish('scan.request', { ...exampleMessage('scan.request'), requestId });
          confirmed.push(requestId);
        } catch (err) {
          refusal = err as Error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await management('DELETE', policy);
    }
    assert.ok(refusal instanceof PublishError, `no publish was refused: ${String(refusal)}`);
    assert.match(refusal.message, /did not accept .* nacked/);
    // Every publish that resolved is in the queue; the refused one is not.
    const queued: string[] = [];
    for (
      let m = await channel.get(scanRequestQueue, { noAck: true });
      m;
      m = await channel.get(scanRequestQueue, { noAck: true })
    ) {
      queued.push(m.properties.messageId as string);
    }
    assert.deepEqual(queued, confirmed);
    // The same publisher publishes again once the queue has room (it re-opened its channel after the nack).
    await waitFor('the queue to accept again', async () => {
      try {
        await publisher.publish('scan.request', { ...exampleMessage('scan.request'), requestId: 'manual-probe' });
        return true;
      } catch {
        return false;
      }
    });
    await channel.purgeQueue(scanRequestQueue);
  });

  it('re-opens its connection on the next publish after the broker closed it', async () => {
    await publisher.publish('scan.request', { ...exampleMessage('scan.request'), requestId: 'manual-before' });
    assert.equal(await closeConnectionsOf(vhost.name, 'publisher'), 1);
    await waitFor('a publish after the connection was closed', async () => {
      try {
        await publisher.publish('scan.request', { ...exampleMessage('scan.request'), requestId: 'manual-after' });
        return true;
      } catch {
        return false; // the close may reach the publisher just after this attempt started
      }
    });
    const ids = [];
    for (
      let m = await channel.get(scanRequestQueue, { noAck: true });
      m;
      m = await channel.get(scanRequestQueue, { noAck: true })
    ) {
      ids.push(m.properties.messageId as string);
    }
    assert.deepEqual(ids, ['manual-before', 'manual-after']);
  });
});
