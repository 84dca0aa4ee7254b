/**
 * `npm run temporal:server [-- --namespace xfc --retention 30d]`: the real Temporal server on this machine's
 * PostgreSQL, set up as an operator sets up a cluster, in the foreground until Ctrl-C:
 *
 * 1. the databases `xfc_temporal` and `xfc_temporal_visibility` are created or upgraded by Temporal's SQL tool
 *    (deploy/temporal/setup-schema.sh);
 * 2. the server starts with deploy/temporal/config/xfc.yaml and dynamicconfig/xfc.yaml on 127.0.0.1:7233;
 * 3. the namespace and xfc's search attributes are registered with the `temporal` CLI
 *    (deploy/temporal/setup-namespace.sh).
 *
 * Then `TEMPORAL_NAMESPACE=xfc npm run dev` runs xfc against it. XFC_TEMPORAL_POSTGRES_URL chooses the PostgreSQL
 * server and account (default postgres://postgres@127.0.0.1:5432); the server must have been built first
 * (`npm run temporal:build`).
 */
import { parseArgs } from 'node:util';
import { redact } from '../lib/config/env.js';
import { xfcSearchAttributes } from '../cli/ops/search-attribute.js';
import {
  postgresTarget,
  setupNamespace,
  setupTemporalSchema,
  standardPorts,
  startTemporalServer,
  temporalServerVersion,
} from '../cli/ops/temporal-server.js';

const { values } = parseArgs({
  options: {
    namespace: { type: 'string', default: 'xfc' },
    retention: { type: 'string', default: '30d' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const postgresUrl = process.env.XFC_TEMPORAL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const postgres = postgresTarget(postgresUrl);
const databases = { persistence: 'xfc_temporal', visibility: 'xfc_temporal_visibility' };

async function main(): Promise<void> {
  console.log(`Setting up ${databases.persistence} and ${databases.visibility} on ${redact(postgresUrl)} …`);
  await setupTemporalSchema(postgres, databases);
  const server = await startTemporalServer({
    postgres,
    databases,
    ports: standardPorts,
    logLevel: values['log-level'],
    onOutput: (chunk) => process.stderr.write(chunk),
    detached: true,
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the Temporal server …');
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`The Temporal server exited (code ${code}, signal ${signal}).`);
    process.exit(1);
  });
  await setupNamespace({ address: server.address, namespace: values.namespace, retention: values.retention });
  const attributes = xfcSearchAttributes.map((attribute) => `${attribute.name} (${attribute.type})`).join(', ');
  console.log(
    [
      `Temporal server ${temporalServerVersion} is running (pid ${server.process.pid}). Ctrl-C stops it.`,
      `  frontend     ${server.address} (HTTP ${standardPorts.frontendHttp})`,
      `  persistence  PostgreSQL ${databases.persistence}, visibility ${databases.visibility}`,
      `  namespace    ${values.namespace} (retention ${values.retention}), search attributes ${attributes}`,
      `  use it       TEMPORAL_NAMESPACE=${values.namespace} npm run dev   (or npm run xfc -- doctor)`,
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
