import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalCli, startDevServer, type DevServer } from '../../cli/ops/temporal-dev-server.js';
import { setupNamespace } from '../../cli/ops/temporal-server.js';
import { freePort } from './ports.js';
import { scratchDir } from './scratch.js';
import { startOwnTemporalServer } from './temporal-server.js';

export interface TestTemporal {
  address: string;
  namespace: string;
  /** Which server this is: the dev server (default) or the real one (XFC_TEST_TEMPORAL=server). */
  kind: TestTemporalKind;
  /** The server process's id while it is up (undefined on the run's shared server, which is not this file's). */
  pid(): number | undefined;
  /** The real server's PostgreSQL databases when they are this caller's own (to attribute PostgreSQL's CPU). */
  databases: string[];
  /** Stops the server and starts it again on the same port and state. */
  restart(): Promise<void>;
  /** Takes the server down (its state is kept), so a test can act while it surely is. */
  down(): Promise<void>;
  /** Brings it back on the same port with the same state. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestTemporalOptions {
  /** Where the dev server's SQLite file's directory is made; tmpfs (scratchDir) by default. */
  parentDir?: string;
  /**
   * A server of this caller's own, never the run's shared one: needed to take it down or restart it, or to
   * measure its CPU. The dev server is always of its own.
   */
  ownServer?: boolean;
  /** Which server, overriding XFC_TEST_TEMPORAL (a benchmark compares both in one run). */
  kind?: TestTemporalKind;
  /** Serve the Web UI on this port (dev server only; headless otherwise), e.g. for its screenshots. */
  uiPort?: number;
}

export type TestTemporalKind = 'dev' | 'server';

/** XFC_TEST_TEMPORAL: `dev` (unset: `temporal server start-dev`, SQLite) or `server` (the real server, PostgreSQL). */
export function testTemporalKind(env: NodeJS.ProcessEnv = process.env): TestTemporalKind {
  const kind = env.XFC_TEST_TEMPORAL || 'dev';
  if (kind !== 'dev' && kind !== 'server') {
    throw new Error(`XFC_TEST_TEMPORAL=${kind}: use dev (the dev server, the default) or server (the real server)`);
  }
  return kind;
}

/** Where scripts/run-tests.ts tells its test files about the run's shared real server. */
export const sharedServerVariable = 'XFC_TEST_TEMPORAL_ADDRESS';

/**
 * A real Temporal server for one test file, fault scenario or benchmark. With the dev server (the default) it is a
 * `temporal server start-dev` of its own, persisted in its own SQLite file so that it can be restarted or taken down
 * and brought back. With XFC_TEST_TEMPORAL=server it is the real server: a namespace of its own on the run's shared
 * server (scripts/run-tests.ts starts one per run), or, with `ownServer` or outside the test runner, a server of its
 * own on databases of its own. Fails with a clear message when the CLI or the server is not installed.
 */
export async function startTestTemporal(options: TestTemporalOptions = {}): Promise<TestTemporal> {
  if ((options.kind ?? testTemporalKind()) === 'dev') return startTestDevServer(options);
  const shared = process.env[sharedServerVariable];
  if (shared && !options.ownServer) return namespaceOnSharedServer(shared);
  return ownRealServer();
}

async function startTestDevServer(options: TestTemporalOptions): Promise<TestTemporal> {
  const executable = findTemporalCli();
  if (!executable) {
    throw new Error(
      'The temporal CLI was not found: install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` or set TEMPORAL_CLI_PATH.',
    );
  }
  const dir = options.parentDir ? mkdtempSync(join(options.parentDir, 'xfc-temporal-')) : scratchDir('xfc-temporal');
  const serverOptions = {
    executable,
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    ...(options.uiPort && { uiPort: options.uiPort }),
  };
  let server: DevServer | undefined = await startDevServer(serverOptions);
  const down = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };
  const up = async (): Promise<void> => {
    server ??= await startDevServer(serverOptions);
  };
  return {
    address: server.address,
    namespace: 'default',
    kind: 'dev',
    pid: () => server?.process.pid,
    databases: [],
    restart: async () => {
      await down();
      await up();
    },
    down,
    up,
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A namespace of this test file's own on the run's shared server: its workflow ids, schedules, task queues and
 * visibility are separate from every other file's, as two tenants' are on one cluster. The namespace is left for
 * the run's end, when the server and its databases are dropped (deleting it would make the server delete every
 * execution in it, work that other files would wait behind).
 */
async function namespaceOnSharedServer(address: string): Promise<TestTemporal> {
  const namespace = `xfc-test-${randomBytes(5).toString('hex')}`;
  await setupNamespace({ address, namespace, retention: '1d' });
  const shared = (what: string) => (): Promise<void> =>
    Promise.reject(new Error(`cannot ${what} the run's shared Temporal server: start it with { ownServer: true }`));
  return {
    address,
    namespace,
    kind: 'server',
    pid: () => undefined,
    databases: [],
    restart: shared('restart'),
    down: shared('take down'),
    up: shared('bring up'),
    stop: () => Promise.resolve(),
  };
}

async function ownRealServer(): Promise<TestTemporal> {
  const server = await startOwnTemporalServer();
  try {
    await setupNamespace({ address: server.address, namespace: 'xfc', retention: '1d' });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    address: server.address,
    namespace: 'xfc',
    kind: 'server',
    pid: () => server.pid(),
    databases: server.databases,
    restart: async () => {
      await server.down();
      await server.up();
    },
    down: () => server.down(),
    up: () => server.up(),
    stop: () => server.stop(),
  };
}
