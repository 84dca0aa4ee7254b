import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection, type TLSConfig } from '@temporalio/client';
import { xfcSearchAttributes, type XfcSearchAttribute } from './search-attribute.js';
import { findTemporalCli, stopChild, superviseServer, temporalCliMissing } from './temporal-dev-server.js';
import { checkTemporalNamespace } from './temporal-namespace-check.js';

/**
 * The real Temporal server (frontend, history, matching and worker services in one process) on PostgreSQL, as a
 * cluster runs it, started from the configuration in deploy/temporal/: `npm run temporal:server`, the test harness
 * with XFC_TEST_TEMPORAL=server, and `npm run bench:pipeline -- --temporal server` use it. It is built from the Go
 * module proxy by deploy/temporal/build.sh; its schemas are set up by Temporal's own SQL tool
 * (deploy/temporal/setup-schema.sh) and the namespace by the `temporal` CLI (deploy/temporal/setup-namespace.sh), so
 * that every step an operator takes is the one tested here.
 */

const run = promisify(execFile);

export const temporalServerVersion = 'v1.29.1';

/** deploy/temporal of this checkout, from the sources (cli/ops/) or the build (dist/cli/ops/). */
export const temporalDeployDir = [2, 3]
  .map((up) => join(dirname(fileURLToPath(import.meta.url)), ...Array<string>(up).fill('..'), 'deploy', 'temporal'))
  .find((dir) => existsSync(join(dir, 'config', 'xfc.yaml')))!;

/** Where deploy/temporal/build.sh puts the server, its SQL tool and the schemas: $XFC_TEMPORAL_HOME or ~/.cache. */
export function temporalServerHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XFC_TEMPORAL_HOME || join(homedir(), '.cache', 'xfc', `temporal-server-${temporalServerVersion}`);
}

export function temporalServerMissing(home: string): string {
  return (
    `The Temporal server ${temporalServerVersion} is not built in ${home}. Build it with \`npm run temporal:build\` ` +
    '(deploy/temporal/build.sh: `go install` from the Go module proxy with the machine’s Go, a few minutes), or set ' +
    'XFC_TEMPORAL_HOME to the directory that holds bin/temporal-server.'
  );
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The host, port and account of a postgres:// URL (its database is not used: Temporal has databases of its own). */
export function postgresTarget(url: string): PostgresTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: decodeURIComponent(parsed.password),
  };
}

export interface TemporalDatabases {
  persistence: string;
  visibility: string;
}

export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** The ports of Temporal's own configurations (the frontend on 7233). */
export const standardPorts: TemporalServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
};

/**
 * The variables deploy/temporal/config/xfc.yaml reads (the names of Temporal's docker image). The server gets only
 * these, PATH and HOME: nothing of the caller's environment leaks into its configuration.
 */
function serverEnvironment(
  postgres: PostgresTarget,
  databases: TemporalDatabases,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: homedir(),
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PWD: postgres.password,
    DBNAME: databases.persistence,
    VISIBILITY_DBNAME: databases.visibility,
    ...extra,
  };
}

/**
 * Creates the two databases if missing and brings their schemas up to date (deploy/temporal/setup-schema.sh, with
 * Temporal's SQL tool): idempotent, as before every upgrade.
 */
export async function setupTemporalSchema(
  postgres: PostgresTarget,
  databases: TemporalDatabases,
  home = temporalServerHome(),
): Promise<void> {
  if (!existsSync(join(home, 'bin', 'temporal-sql-tool'))) throw new Error(temporalServerMissing(home));
  try {
    await run('bash', [join(temporalDeployDir, 'setup-schema.sh')], {
      env: serverEnvironment(postgres, databases, { XFC_TEMPORAL_HOME: home }),
      timeout: 300_000,
    });
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`setting up Temporal's schemas failed: ${(stderr || stdout || String(err)).trim()}`);
  }
}

export interface TemporalServerOptions {
  postgres: PostgresTarget;
  databases: TemporalDatabases;
  ports?: TemporalServerPorts;
  home?: string;
  /** Server log level (default warn). */
  logLevel?: string;
  /** deploy/temporal/dynamicconfig/xfc.yaml by default. */
  dynamicConfigFile?: string;
  /** Serve the server's Prometheus metrics at this host:port. */
  prometheus?: string;
  /** More of lib/config/xfc.yaml's variables (TLS, NUM_HISTORY_SHARDS, …). */
  env?: Record<string, string>;
  /** How to reach the frontend when `env` turns its TLS on: the readiness probe connects as a client would. */
  tls?: TLSConfig;
  onOutput?: (chunk: Buffer) => void;
  /** A process group of its own, so that Ctrl-C in a terminal reaches only the caller, which stops it last. */
  detached?: boolean;
}

export interface TemporalServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the server with deploy/temporal's configuration and resolves once its frontend answers. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const home = options.home ?? temporalServerHome();
  const binary = join(home, 'bin', 'temporal-server');
  if (!existsSync(binary)) throw new Error(temporalServerMissing(home));
  const ports = options.ports ?? standardPorts;
  const env = serverEnvironment(options.postgres, options.databases, {
    LOG_LEVEL: options.logLevel ?? 'warn',
    DYNAMIC_CONFIG_FILE_PATH: options.dynamicConfigFile ?? join(temporalDeployDir, 'dynamicconfig', 'xfc.yaml'),
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    ...(options.prometheus ? { PROMETHEUS_ENDPOINT: options.prometheus } : {}),
    ...options.env,
  });
  // --allow-no-auth: this configuration has no authorizer; production clusters add one, or mutual TLS (README).
  const args = [
    '--root',
    '/',
    '--config',
    join(temporalDeployDir, 'config'),
    '--env',
    'xfc',
    '--allow-no-auth',
    'start',
  ];
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  const address = `127.0.0.1:${ports.frontend}`;
  await superviseServer(child, address, `temporal-server ${temporalServerVersion}`, 120_000, {
    ...(options.onOutput && { onOutput: options.onOutput }),
    ...(options.tls && { tls: options.tls }),
  });
  return { address, process: child, stop: () => stopChild(child) };
}

export interface NamespaceSetup {
  address: string;
  namespace: string;
  /** Retention of closed workflows, as the CLI takes it (`30d`, `72h`). */
  retention: string;
  attributes?: readonly XfcSearchAttribute[];
}

/**
 * Registers the namespace and the search attributes as an operator does (deploy/temporal/setup-namespace.sh, with
 * the `temporal` CLI), then waits until the frontend serves both, asking what `xfc doctor` asks.
 */
export async function setupNamespace(setup: NamespaceSetup): Promise<void> {
  const cli = findTemporalCli();
  if (!cli) throw new Error(temporalCliMissing);
  const attributes = setup.attributes ?? xfcSearchAttributes;
  const args = [join(temporalDeployDir, 'setup-namespace.sh'), setup.namespace, setup.retention];
  args.push(...attributes.map((attribute) => `${attribute.name}=${attribute.type}`));
  try {
    await run('bash', args, {
      env: { ...process.env, TEMPORAL_ADDRESS: setup.address, TEMPORAL_CLI_PATH: cli },
      timeout: 120_000,
    });
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`registering namespace ${setup.namespace} failed: ${(stderr || stdout || String(err)).trim()}`);
  }
  const connection = await Connection.connect({ address: setup.address });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = await checkTemporalNamespace(connection, setup.namespace, attributes);
      if (found.namespace.status === 'ok' && found.searchAttributes?.status === 'ok') return;
      if (Date.now() > deadline) {
        throw new Error(`namespace ${setup.namespace}: ${found.searchAttributes?.detail ?? found.namespace.detail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await connection.close();
  }
}
