import { errorMessage } from '../common/errors.js';
import type { XfcConfig } from '../config/env.js';
import { openPool } from '../../db/pool.js';
import { startReportServer } from './server.js';

/**
 * The live report inside `xfc dev`: served on XFC_REPORT_HOST:XFC_REPORT_PORT (127.0.0.1:9466 by default), from its
 * own small pool, read-only. A taken port is not fatal to `xfc dev`: the banner says so and how to move it.
 */
export async function startDevReport(config: XfcConfig): Promise<{ banner: string; stop(): Promise<void> }> {
  if (config.report.port === 0) {
    return { banner: 'off (XFC_REPORT_PORT=0)', stop: () => Promise.resolve() };
  }
  const pool = await openPool(config.databaseUrl, { maximumPoolSize: 2 });
  try {
    const report = await startReportServer(pool, {
      host: config.report.host,
      port: config.report.port,
      defaultSince: '365d',
      warnPercent: config.notify.warnPercent,
      overPercent: config.notify.overPercent,
      log: (line) => console.error(line),
    });
    return {
      banner: `${report.url}  (read-only; one user: ${report.url}user/alice; \`npm run xfc -- report --out FILE\`)`,
      stop: async () => {
        await report.close();
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end();
    return {
      banner: `not served: ${errorMessage(err)} (set XFC_REPORT_PORT to a free port, or 0 for off)`,
      stop: () => Promise.resolve(),
    };
  }
}
