import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTemporalCli, startDevServer, type DevServer } from '../../ops/temporal-dev-server.js';
import { freePort } from './ports.js';

export interface TestTemporal {
  address: string;
  namespace: string;
  /** Stops the server and starts it again on the same port and SQLite file (state survives). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Temporal dev server (the `temporal` CLI) for one test file, persisted in a temporary SQLite file so that
 * fault tests can restart it. Fails with a clear message when the CLI is not installed.
 */
export async function startTestTemporal(): Promise<TestTemporal> {
  const executable = findTemporalCli();
  if (!executable) {
    throw new Error(
      'The temporal CLI was not found: install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` or set TEMPORAL_CLI_PATH.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'xfc-temporal-'));
  const port = await freePort();
  const options = { executable, port, dbFile: join(dir, 'temporal.db') };
  let server: DevServer = await startDevServer(options);
  return {
    address: server.address,
    namespace: 'default',
    restart: async () => {
      await server.stop();
      server = await startDevServer(options);
    },
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
