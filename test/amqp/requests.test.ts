import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import { scanRequestQueue } from '../../lib/amqp/topology.js';
import { UsageError, UserError } from '../../lib/common/errors.js';
import { scanRequest } from '../../lib/messages/v1/index.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';

describe('requestScanViaQueue', () => {
  let vhost: TestVhost;
  before(async () => {
    vhost = await createTestVhost('xfc-requests');
  });
  after(async () => {
    await vhost.delete();
  });

  it('publishes a valid scan.request whose message id is its request id', async () => {
    const { requestId, messageId } = await requestScanViaQueue({ amqpUrl: vhost.url }, 'alice');
    assert.equal(messageId, requestId);
    assert.match(requestId, /^manual-[0-9a-f-]{36}$/);
    const connection = await amqp.connect(vhost.url);
    try {
      const message = await (await connection.createChannel()).get(scanRequestQueue, { noAck: true });
      assert.ok(message);
      assert.equal(message.properties.messageId, requestId);
      const body = scanRequest.parse(JSON.parse(message.content.toString()));
      assert.equal(body.username, 'alice');
      assert.equal(body.reason, 'manual');
      assert.ok(Math.abs(Date.parse(body.requestedAt) - Date.now()) < 60_000);
    } finally {
      await connection.close();
    }
  });

  it('refuses an invalid username before connecting, saying why', async () => {
    await assert.rejects(
      requestScanViaQueue({ amqpUrl: 'amqp://127.0.0.1:1' }, '../etc'),
      (err: Error) => err instanceof UsageError && /"\.\.\/etc" is a path, not a name/.test(err.message),
    );
  });

  it('says what to do when RabbitMQ is unreachable', async () => {
    await assert.rejects(
      requestScanViaQueue({ amqpUrl: 'amqp://guest:pw@127.0.0.1:1' }, 'alice'),
      (err: Error) =>
        err instanceof UserError &&
        /cannot connect to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1.*XFC_AMQP_URL/.test(err.message),
    );
  });
});
