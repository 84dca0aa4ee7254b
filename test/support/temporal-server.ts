import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  postgresTarget,
  setupTemporalSchema,
  startTemporalServer,
  temporalServerVersion,
  type TemporalDatabases,
  type TemporalServer,
  type TemporalServerOptions,
  type TemporalServerPorts,
} from '../../cli/ops/temporal-server.js';
import { adminUrl, withClient } from './postgres.js';
import { errorMessage } from '../../lib/common/errors.js';

/**
 * Real Temporal servers (PostgreSQL persistence and visibility) for tests, fault scenarios and benchmarks. Setting
 * up Temporal's schemas takes ~10 s of SQL tool runs, so it is done once per machine and release into two template
 * databases; each server then gets copies of its own (CREATE DATABASE … TEMPLATE, well under a second), and drops
 * them when it stops.
 */

const release = temporalServerVersion.replace(/\W/g, '_');
const templates: TemporalDatabases = {
  persistence: `xfc_test_temporal_template_${release}`,
  visibility: `xfc_test_temporal_visibility_template_${release}`,
};
/** Written on a template once its schema is complete: a half-made template is made again. */
const readyMark = `xfc test template, Temporal ${temporalServerVersion}, schema complete`;

async function ensureTemplates(): Promise<void> {
  await withClient(adminUrl, async (client) => {
    // One process sets the templates up; the others wait for it (a session-level advisory lock).
    await client.query(`SELECT pg_advisory_lock(hashtext('xfc-test-temporal-templates'))`);
    try {
      const { rows } = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname = ANY($1) AND shobj_description(oid, 'pg_database') = $2`,
        [[templates.persistence, templates.visibility], readyMark],
      );
      if (rows.length === 2) return;
      for (const name of Object.values(templates)) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await setupTemporalSchema(postgresTarget(adminUrl), templates);
      for (const name of Object.values(templates))
        await client.query(`COMMENT ON DATABASE "${name}" IS '${readyMark}'`);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('xfc-test-temporal-templates'))`);
    }
  });
}

/** Copies of the templates; retried while another process is copying the same template (PostgreSQL refuses). */
async function copyTemplates(): Promise<TemporalDatabases> {
  const id = randomBytes(5).toString('hex');
  const copies = { persistence: `xfc_test_temporal_${id}`, visibility: `xfc_test_temporal_visibility_${id}` };
  await withClient(adminUrl, async (client) => {
    for (const kind of ['persistence', 'visibility'] as const) {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query(`CREATE DATABASE "${copies[kind]}" TEMPLATE "${templates[kind]}"`);
          break;
        } catch (err) {
          if (attempt > 50 || !/being accessed by other users/.test(errorMessage(err))) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
        }
      }
    }
  });
  // Temporal's schema_version row names its database: the copy's must name the copy, or the server refuses it.
  for (const kind of ['persistence', 'visibility'] as const) {
    const url = new URL(adminUrl);
    url.pathname = `/${copies[kind]}`;
    await withClient(url.toString(), (client) =>
      client.query('UPDATE schema_version SET db_name = $1', [copies[kind]]),
    );
  }
  return copies;
}

async function dropDatabases(databases: TemporalDatabases): Promise<void> {
  await withClient(adminUrl, async (client) => {
    for (const name of Object.values(databases)) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** True when nothing listens on `port` of 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Nine free ports below 32768: Temporal keeps membership ports in a PostgreSQL smallint, so the kernel's ephemeral
 * ports (32768 and up, what freePort() gets) make the server fail at start-up.
 */
async function freePorts(): Promise<TemporalServerPorts> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!taken.has(port) && (await portFree(port))) {
        taken.add(port);
        return port;
      }
    }
  };
  return {
    frontend: await next(),
    frontendHttp: await next(),
    frontendMembership: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
  };
}

export interface OwnTemporalServer {
  address: string;
  /** The server process's id while it is up. */
  pid(): number | undefined;
  databases: string[];
  /** Takes it down (its state stays in PostgreSQL). */
  down(): Promise<void>;
  /** Starts it again on the same ports and databases. */
  up(): Promise<void>;
  /** Stops it and drops its databases. */
  stop(): Promise<void>;
}

/** A real Temporal server on copies of the template databases and free ports, for one test run or scenario. */
export async function startOwnTemporalServer(
  extra: Pick<TemporalServerOptions, 'env' | 'tls'> = {},
): Promise<OwnTemporalServer> {
  await ensureTemplates();
  const databases = await copyTemplates();
  const ports = await freePorts();
  // The last of its output, for the error when it does not come up.
  let output = '';
  const options: TemporalServerOptions = {
    ...extra,
    postgres: postgresTarget(adminUrl),
    databases,
    ports,
    onOutput: (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    },
  };
  let server: TemporalServer | undefined;
  const up = async (): Promise<void> => {
    try {
      server ??= await startTemporalServer(options);
    } catch (err) {
      throw new Error(`${errorMessage(err)}\n${output}`);
    }
  };
  const down = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };
  try {
    await up();
  } catch (err) {
    await dropDatabases(databases);
    throw err;
  }
  return {
    address: `127.0.0.1:${ports.frontend}`,
    pid: () => server?.process.pid,
    databases: [databases.persistence, databases.visibility],
    down,
    up,
    stop: async () => {
      await down();
      await dropDatabases(databases);
    },
  };
}
