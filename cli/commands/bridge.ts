import type { CommandModule } from 'yargs';
import { startBridge } from '../../lib/amqp/bridge.js';
import { loadConfig } from '../../lib/config/env.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { verifyScanResult, type ResultClaims, type ResultVerdict } from '../../db/scan-authority.js';
import { connectTemporal } from '../../lib/temporal/client.js';

/**
 * `xfc bridge`: consumes xfc.scan.request and xfc.scan.completed and starts the workflows, until SIGTERM or
 * SIGINT; then it stops consuming, lets the starts in flight finish and exits 0. Logs are JSON lines on stdout.
 */
export const bridgeCommand: CommandModule<object, { prefetch: number | undefined }> = {
  command: 'bridge',
  describe: 'Start workflows from RabbitMQ messages (scan.request → scanUser, scan.completed/failed → applyScan)',
  builder: (yargs) =>
    yargs.option('prefetch', {
      type: 'number',
      describe: 'Unacked deliveries per queue (default XFC_BRIDGE_PREFETCH, 10)',
    }),
  handler: async (args) => {
    const config = loadConfig();
    if (args.prefetch !== undefined) {
      if (!Number.isInteger(args.prefetch) || args.prefetch < 1)
        throw new Error('--prefetch must be a whole number ≥ 1');
      config.bridge.prefetch = args.prefetch;
    }
    const client = await connectTemporal(config);
    // The bridge reads which scans xfc issued, to dead-letter a result it did not with the reason. Opened on the
    // first result that needs it: requests flow even while PostgreSQL is away (a result then waits and retries).
    let pool: Promise<DatabasePool> | undefined;
    const verifyResult = async (claims: ResultClaims): Promise<ResultVerdict> => {
      const opening = (pool ??= openPool(config.databaseUrl, { maximumPoolSize: 2 }));
      opening.catch(() => {
        if (pool === opening) pool = undefined;
      });
      return verifyScanResult(await opening, claims);
    };
    const bridge = startBridge({ config, temporalClient: client, verifyResult });
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    console.error(`xfc bridge: ${signal}, stopping`);
    await bridge.stop();
    await (await pool?.catch(() => undefined))?.end();
    await client.connection.close();
  },
};
