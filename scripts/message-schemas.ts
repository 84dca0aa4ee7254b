/** `npm run schemas`: writes docs/messages/v1/*.schema.json from the zod message definitions. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { messageJsonSchemas } from '../lib/messages/json-schema.js';

for (const [file, schema] of Object.entries(messageJsonSchemas())) {
  const path = join('docs', 'messages', file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${path}`);
}
