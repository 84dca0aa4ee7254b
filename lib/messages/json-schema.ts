import { zodToJsonSchema, ignoreOverride } from 'zod-to-json-schema';
import { usernamePattern } from '../common/username.js';
import { username } from './v1/messages.js';
import { messageTypes } from './v1/index.js';

/**
 * JSON Schema (draft-07) of every message version, generated from the zod definitions that xfc itself validates
 * with, for services in other languages. `docs/messages/v1/<type>.schema.json`; test/messages/json-schema.test.ts
 * fails when they are not current (`npm run schemas` writes them).
 */
export function messageJsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(messageTypes)) {
    schemas[`v1/${type}.schema.json`] = {
      ...zodToJsonSchema(schema, {
        $refStrategy: 'none',
        // The username check is code (a superRefine, for its explanations); its pattern says the same.
        override: (def) =>
          def === username._def
            ? { type: 'string', pattern: usernamePattern.source, description: 'a lower-case POSIX account name' }
            : ignoreOverride,
      }),
      title: `xfc message ${type}, version 1`,
      description: `The body of an AMQP message with type "${type}" (see docs/messages.md).`,
    };
  }
  return schemas;
}
