import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { decodeMessage } from '../../lib/amqp/decode.js';
import { createPublisher } from '../../lib/amqp/publisher.js';
import { maxBodyBytes, scanCompletedQueue, scanRequestQueue } from '../../lib/amqp/topology.js';
import { ageBucketLabels, ageBucketLimits, scanCompleted, type ScanCompleted } from '../../lib/messages/v1/index.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { exampleMessage } from './examples.js';

/** A string of `length` characters that JSON escapes most expensively (\u0001 is six bytes per character). */
const worst = (length: number): string => '\u0001'.repeat(length);

/** The largest scan.completed the schema allows: every bounded string and array full. */
function largestScanCompleted(): ScanCompleted {
  const big = '9'.repeat(30);
  const top = Array.from({ length: 20 }, () => ({
    path: worst(1100),
    files: 2 ** 53 - 1,
    bytes: big,
    temporalByteDays: big,
  }));
  return {
    ...exampleMessage('scan.completed'),
    scanId: 'x'.repeat(128),
    requestId: 'y'.repeat(128),
    workDir: worst(4200),
    username: 'a'.repeat(32),
    totals: {
      files: 2 ** 53 - 1,
      directories: 2 ** 53 - 1,
      symlinks: 2 ** 53 - 1,
      others: 2 ** 53 - 1,
      bytes: big,
      allocatedBytes: big,
      temporalByteDays: big,
    },
    errors: {
      unreadable: 2 ** 53 - 1,
      vanished: 2 ** 53 - 1,
      otherDevice: 2 ** 53 - 1,
      otherErrors: 2 ** 53 - 1,
      samples: Array.from({ length: 20 }, () => ({ kind: 'otherErrors' as const, path: worst(4200), code: worst(40) })),
    },
    topDirectories: { byBytes: top, byTemporal: top },
    ageHistogram: ageBucketLabels.map((label, i) => ({
      label,
      maxDays: ageBucketLimits[i] ?? null,
      files: 2 ** 53 - 1,
      bytes: big,
    })),
  };
}

describe('message contracts', () => {
  it('the largest valid scan.completed fits well under the size limit', () => {
    const message = largestScanCompleted();
    assert.ok(scanCompleted.safeParse(message).success, 'the constructed message is valid');
    const size = Buffer.byteLength(JSON.stringify(message));
    console.log(`largest valid scan.completed: ${size} bytes; limit ${maxBodyBytes}`);
    assert.ok(size < maxBodyBytes * 0.9, `${size} bytes leaves too little room under ${maxBodyBytes}`);
  });

  it('a refusal names the field and what is wrong with it', () => {
    const refuse = (body: unknown): string => {
      const decoded = decodeMessage(
        {
          content: Buffer.from(JSON.stringify(body)),
          properties: { type: 'scan.request' } as never,
          fields: { routingKey: 'scan.request' },
        },
        ['scan.request'],
      );
      assert.equal(decoded.ok, false);
      return decoded.ok ? '' : decoded.detail;
    };
    const request = exampleMessage('scan.request');
    assert.match(refuse({ ...request, username: '../etc' }), /username: "\.\.\/etc" is a path, not a name/);
    assert.match(refuse({ ...request, username: 'Alice' }), /username: "Alice" contains upper-case letters/);
    assert.match(refuse({ ...request, reason: 'because' }), /reason: Invalid enum value/);
    assert.match(refuse({ ...request, requestedAt: 'yesterday' }), /requestedAt: Invalid datetime/);
    assert.match(refuse({ ...request, path: '/etc' }), /Unrecognized key\(s\) in object: 'path'/);
    const { requestId: _omitted, ...withoutId } = request;
    assert.match(refuse(withoutId), /requestId: Required/);
  });
});

describe('producer output parses with the consumer schema (through RabbitMQ)', () => {
  let vhost: TestVhost;
  before(async () => {
    vhost = await createTestVhost('xfc-contract');
  });
  after(async () => {
    await vhost.delete();
  });

  it('every message type published by createPublisher decodes to the same body on the consuming side', async () => {
    const publisher = createPublisher(vhost.url);
    const bodies = {
      'scan.request': exampleMessage('scan.request'),
      'scan.completed': exampleMessage('scan.completed'),
      'scan.failed': exampleMessage('scan.failed'),
    } as const;
    try {
      await publisher.publish('scan.request', bodies['scan.request']);
      await publisher.publish('scan.completed', bodies['scan.completed']);
      await publisher.publish('scan.failed', bodies['scan.failed']);
    } finally {
      await publisher.close();
    }
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      const received = [];
      for (const queue of [scanRequestQueue, scanCompletedQueue, scanCompletedQueue]) {
        const message = await channel.get(queue, { noAck: true });
        assert.ok(message, `nothing in ${queue}`);
        const accepts =
          queue === scanRequestQueue ? (['scan.request'] as const) : (['scan.completed', 'scan.failed'] as const);
        const decoded = decodeMessage(message, accepts);
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.detail);
        received.push(decoded);
      }
      assert.deepEqual(
        received.map((d) => d.type),
        ['scan.request', 'scan.completed', 'scan.failed'],
      );
      for (const decoded of received) assert.deepEqual(decoded.body, bodies[decoded.type]);
    } finally {
      await connection.close();
    }
  });
});
