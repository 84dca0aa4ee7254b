import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../lib/amqp/decode.js';
import { messageTypes, type MessageType } from '../../lib/messages/v1/index.js';
import { readDocExamples, type DocExample } from './examples.js';

/** Runs an example through the bridge's decoder as if it had arrived with the type's routing key and properties. */
function decode(example: DocExample): ReturnType<typeof decodeMessage> {
  return decodeMessage(
    {
      content: Buffer.from(example.text),
      properties: { type: example.type, contentType: 'application/json' } as never,
      fields: { routingKey: example.type },
    },
    [example.type],
  );
}

describe('docs/messages.md examples', () => {
  const examples = readDocExamples();

  it('documents a valid example of every message type and several refused ones', () => {
    for (const type of Object.keys(messageTypes) as MessageType[]) {
      assert.ok(
        examples.some((e) => e.type === type && e.expected === undefined),
        `no valid ${type} example in the docs`,
      );
    }
    assert.ok(examples.filter((e) => e.expected !== undefined).length >= 4);
  });

  for (const example of examples.filter((e) => e.expected === undefined)) {
    it(`line ${example.line}: the ${example.type} example is valid for producer and consumer`, () => {
      const body: unknown = JSON.parse(example.text);
      const parsed = messageTypes[example.type].safeParse(body);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      assert.deepEqual(parsed.data, body, 'the schema keeps every field of the example');
      const decoded = decode(example);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.detail);
      assert.equal(decoded.type, example.type);
    });
  }

  for (const example of examples.filter((e) => e.expected !== undefined)) {
    it(`line ${example.line}: the ${example.type} example is refused as ${example.expected}`, () => {
      const decoded = decode(example);
      assert.equal(decoded.ok, false, 'the bridge would have accepted it');
      if (decoded.ok) return;
      assert.equal(decoded.reason, example.expected, decoded.detail);
      assert.ok(decoded.detail.length > 10, 'the detail says what is wrong');
    });
  }
});
