import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp, { type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import { confirmedPublisher } from '../../lib/amqp/confirm.js';
import {
  deadReasonHeader,
  escapeBytes,
  listDeadLetters,
  publishDeadLetter,
  requeueDeadLetters,
} from '../../lib/amqp/dead-letters.js';
import { deadQueue, declareTopology, deliveryLimit, mainExchange, scanRequestQueue } from '../../lib/amqp/topology.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { exampleMessage } from '../messages/examples.js';

describe('dead letters (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  before(async () => {
    vhost = await createTestVhost('xfc-dead');
    connection = await amqp.connect(vhost.url);
    channel = await connection.createConfirmChannel();
    await declareTopology(channel);
  });
  after(async () => {
    await connection.close();
    await vhost.delete();
  });

  async function drain(queue: string): Promise<Message[]> {
    const messages: Message[] = [];
    for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) {
      messages.push(m);
    }
    return messages;
  }

  it('the broker dead-letters a message after the delivery limit; listing shows it without removing it', async () => {
    const request = exampleMessage('scan.request');
    channel.publish(mainExchange, 'scan.request', Buffer.from(JSON.stringify(request)), {
      messageId: request.requestId,
      type: 'scan.request',
      contentType: 'application/json',
      persistent: true,
    });
    await channel.waitForConfirms();
    let deliveries = 0;
    for (let m = await channel.get(scanRequestQueue); m; m = await channel.get(scanRequestQueue)) {
      deliveries++;
      channel.nack(m, false, true);
    }
    assert.equal(deliveries, deliveryLimit + 1);
    for (let attempt = 0; attempt < 2; attempt++) {
      const [letter, ...rest] = await listDeadLetters(vhost.url, { limit: 10 });
      assert.equal(rest.length, 0);
      assert.ok(letter);
      assert.equal(letter.reason, 'delivery_limit');
      assert.equal(letter.from, scanRequestQueue);
      assert.equal(letter.type, 'scan.request');
      assert.equal(letter.messageId, request.requestId);
      assert.equal(letter.routingKey, 'scan.request');
      assert.match(letter.preview, /^\{"version":1,"requestId":"manual-/);
      assert.match(letter.deadAt ?? '', /^\d{4}-\d\d-\d\dT/);
    }
  });

  it('--requeue puts it back on xfc with its routing key, body and id, without the death headers', async () => {
    const result = await requeueDeadLetters(vhost.url, { limit: 10 });
    assert.equal(result.requeued.length, 1);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(await drain(deadQueue), []);
    const [message, ...rest] = await drain(scanRequestQueue);
    assert.equal(rest.length, 0);
    assert.ok(message);
    const request = exampleMessage('scan.request');
    assert.equal(message.properties.messageId, request.requestId);
    assert.equal(message.properties.type, 'scan.request');
    assert.deepEqual(JSON.parse(message.content.toString()), request);
    const headers = message.properties.headers ?? {};
    assert.equal(headers['x-death'], undefined);
    assert.equal(headers['x-first-death-reason'], undefined);
    assert.equal(headers['x-delivery-count'], 0, 'the delivery count starts again');
  });

  it("requeues the bridge's dead letters without its headers, keeps truncated ones, and honours --limit", async () => {
    const publish = confirmedPublisher(channel, { timeoutMs: 5_000 });
    const fake = (content: Buffer, messageId: string): Message =>
      ({
        content,
        fields: { routingKey: 'scan.request', exchange: mainExchange },
        properties: { messageId, contentType: 'application/json', headers: { 'x-origin': 'ops' } },
      }) as unknown as Message;
    await publishDeadLetter(publish, fake(Buffer.from('{"version": 1'), 'broken'), 'not-json', 'body is not JSON');
    await publishDeadLetter(publish, fake(Buffer.alloc(70_000, 0xff), 'huge'), 'too-large', 'too large');
    await publishDeadLetter(publish, fake(Buffer.from('x'), 'third'), 'not-json', 'not JSON');

    const limited = await listDeadLetters(vhost.url, { limit: 2 });
    assert.deepEqual(
      limited.map((l) => [l.messageId, l.reason, l.from]),
      [
        ['broken', 'not-json', mainExchange],
        ['huge', 'too-large', mainExchange],
      ],
    );
    assert.equal(limited[1]?.size, 70_000, 'the size before truncation');
    assert.match(limited[1]?.preview ?? '', /^(\\xff){120}…$/);

    const result = await requeueDeadLetters(vhost.url, { limit: 2 });
    assert.deepEqual(
      result.requeued.map((l) => l.messageId),
      ['broken'],
    );
    assert.deepEqual(
      result.failed.map((f) => f.letter.messageId),
      ['huge'],
    );
    assert.match(result.failed[0]?.error ?? '', /truncated/);
    const [requeued] = await drain(scanRequestQueue);
    assert.equal(requeued?.properties.headers?.[deadReasonHeader], undefined);
    assert.equal(requeued?.properties.headers?.['x-origin'], 'ops');
    assert.equal(requeued?.content.toString(), '{"version": 1');
    const left = await listDeadLetters(vhost.url, { limit: 10 });
    assert.deepEqual(left.map((l) => l.messageId).sort(), ['huge', 'third']);
  });

  it('escapes bodies so any bytes print on one line', () => {
    assert.equal(escapeBytes(Buffer.from('a\\b\n\u00e9"')), 'a\\\\b\\x0a\\xc3\\xa9"');
  });
});
