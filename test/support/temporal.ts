import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalCli, startDevServer, type DevServer } from '../../ops/temporal-dev-server.js';
import { freePort } from './ports.js';
import { scratchDir } from './scratch.js';

export interface TestTemporal {
  address: string;
  namespace: string;
  /** The server process's id while it is up. */
  pid(): number | undefined;
  /** Stops the server and starts it again on the same port and SQLite file (state survives). */
  restart(): Promise<void>;
  /** Takes the server down (its state stays in the SQLite file), so a test can act while it surely is. */
  down(): Promise<void>;
  /** Brings it back on the same port with the same state. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestTemporalOptions {
  /** Where the SQLite file's directory is made; tmpfs (scratchDir) by default. */
  parentDir?: string;
}

/**
 * A real Temporal dev server (the `temporal` CLI) for one test file or fault scenario, persisted in its own SQLite
 * file so that it can be restarted or taken down and brought back. Fails with a clear message when the CLI is not
 * installed.
 */
export async function startTestTemporal(options: TestTemporalOptions = {}): Promise<TestTemporal> {
  const executable = findTemporalCli();
  if (!executable) {
    throw new Error(
      'The temporal CLI was not found: install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` or set TEMPORAL_CLI_PATH.',
    );
  }
  const dir = options.parentDir ? mkdtempSync(join(options.parentDir, 'xfc-temporal-')) : scratchDir('xfc-temporal');
  const serverOptions = { executable, port: await freePort(), dbFile: join(dir, 'temporal.db') };
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
    pid: () => server?.process.pid,
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
