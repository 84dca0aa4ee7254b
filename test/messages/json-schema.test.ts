import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { messageJsonSchemas } from '../../lib/messages/json-schema.js';
import { messageTypes, type MessageType } from '../../lib/messages/v1/index.js';
import { exampleMessage } from './examples.js';

interface ObjectSchema {
  type: string;
  properties: Record<string, { pattern?: string; enum?: string[] }>;
  required: string[];
  additionalProperties: boolean;
}

describe('JSON Schema of the messages (docs/messages/v1)', () => {
  const generated = messageJsonSchemas();

  it('is current: the committed files are what the zod definitions generate (npm run schemas)', () => {
    assert.deepEqual(
      Object.keys(generated).sort(),
      Object.keys(messageTypes)
        .map((type) => `v1/${type}.schema.json`)
        .sort(),
    );
    for (const [file, schema] of Object.entries(generated)) {
      const committed = readFileSync(new URL(`../../docs/messages/${file}`, import.meta.url), 'utf8');
      assert.equal(
        committed,
        `${JSON.stringify(schema, null, 2)}\n`,
        `docs/messages/${file} is stale: npm run schemas`,
      );
    }
  });

  it('describes the documented examples: every field known, the required ones present, closed objects', () => {
    for (const type of Object.keys(messageTypes) as MessageType[]) {
      const schema = generated[`v1/${type}.schema.json`] as ObjectSchema;
      const example = exampleMessage(type) as Record<string, unknown>;
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false, `${type}: unknown fields are refused, as zod's .strict() does`);
      assert.deepEqual(
        Object.keys(example).filter((key) => !(key in schema.properties)),
        [],
        type,
      );
      assert.deepEqual(
        schema.required.filter((key) => !(key in example)),
        [],
        type,
      );
      const username = schema.properties.username;
      assert.ok(username?.pattern, `${type}: the username rule is in the schema`);
      assert.match(String(example.username), new RegExp(username.pattern));
      assert.doesNotMatch('../etc', new RegExp(username.pattern));
    }
    const failed = generated['v1/scan.failed.schema.json'] as ObjectSchema;
    assert.deepEqual(failed.properties.reason?.enum, messageTypes['scan.failed'].shape.reason.options);
  });
});
