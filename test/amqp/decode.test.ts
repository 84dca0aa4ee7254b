import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../lib/amqp/decode.js';
import type { MessageType } from '../../lib/messages/v1/index.js';
import { exampleMessage } from '../messages/examples.js';

function delivery(
  content: Buffer | string,
  properties: Record<string, unknown>,
  routingKey = 'scan.request',
): Parameters<typeof decodeMessage>[0] {
  return { content: Buffer.from(content), properties: properties as never, fields: { routingKey } };
}

const accepts: MessageType[] = ['scan.request'];
const valid = JSON.stringify(exampleMessage('scan.request'));

describe('decodeMessage', () => {
  it('accepts a valid message, taking the type from the type property', () => {
    const decoded = decodeMessage(delivery(valid, { type: 'scan.request', contentType: 'application/json' }), accepts);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.body, exampleMessage('scan.request'));
  });

  it('takes the type from the routing key when the publisher left the property out', () => {
    assert.ok(decodeMessage(delivery(valid, {}), accepts).ok);
    const wrongKey = decodeMessage(delivery(valid, {}, 'xfc.scan.request'), accepts);
    assert.deepEqual(wrongKey.ok ? undefined : wrongKey.reason, 'unknown-type');
  });

  it('checks the size before anything else, at exactly the limit', () => {
    const limit = valid.length + 10;
    const padded = valid + ' '.repeat(10);
    const atLimit = decodeMessage(delivery(padded, {}), accepts, limit);
    assert.ok(atLimit.ok, 'a body of exactly the limit is accepted');
    const over = decodeMessage(delivery(padded + ' ', { type: 'nonsense' }), accepts, limit);
    assert.deepEqual(over.ok ? undefined : [over.reason, over.detail], [
      'too-large',
      `body of ${limit + 1} bytes exceeds the limit of ${limit} bytes`,
    ]);
  });

  const refusals: Array<[string, Buffer | string, Record<string, unknown>, string, RegExp]> = [
    [
      'a type this queue does not carry',
      valid,
      { type: 'scan.completed' },
      'unknown-type',
      /"scan.completed" is not one of scan.request/,
    ],
    ['another content type', valid, { contentType: 'text/plain' }, 'not-json', /text\/plain/],
    ['a compressed body', valid, { contentEncoding: 'gzip' }, 'not-json', /gzip/],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), {}, 'not-json', /not UTF-8 JSON/],
    ['a JSON array', '[1]', {}, 'not-json', /not an object/],
    ['JSON null', 'null', {}, 'not-json', /not an object/],
    ['version "1" as a string', valid.replace('"version":1', '"version":"1"'), {}, 'unsupported-version', /"1"/],
    [
      'no version',
      valid.replace('"version":1,', ''),
      {},
      'invalid-message',
      /version: Invalid literal value, expected 1|version: Required/,
    ],
  ];
  for (const [what, content, properties, reason, detail] of refusals) {
    it(`refuses ${what} as ${reason}`, () => {
      const decoded = decodeMessage(delivery(content, properties), accepts);
      assert.equal(decoded.ok, false);
      if (decoded.ok) return;
      assert.equal(decoded.reason, reason);
      assert.match(decoded.detail, detail);
    });
  }

  it('accepts application/json with a charset', () => {
    assert.ok(decodeMessage(delivery(valid, { contentType: 'application/json; charset=utf-8' }), accepts).ok);
  });
});
