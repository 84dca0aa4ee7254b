import { writeFile, rename } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError, UserError, errorMessage } from '../../lib/common/errors.js';
import { loadConfig, redact } from '../../lib/config/env.js';
import { openPool, withPool } from '../../db/pool.js';
import { buildReport } from '../../lib/report/build.js';
import { startReportServer } from '../../lib/report/server.js';
import { parseSince } from '../../lib/report/since.js';
import { explainDatabaseError } from './db.js';

interface CommonArgs {
  since: string;
  volume?: string;
}

interface BuildArgs extends CommonArgs {
  user?: string;
  out?: string;
  top: number;
}

interface ServeArgs {
  since: string;
  host?: string;
  port?: number;
}

function since(input: string): Date {
  try {
    return parseSince(input, new Date());
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a page. */
async function writeAtomically(path: string, body: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temporary, body, { mode: 0o640 });
  await rename(temporary, path);
}

const serve: CommandModule<CommonArgs, ServeArgs> = {
  command: 'serve',
  describe: 'Serve the report over HTTP, read-only (GET / and /user/NAME)',
  builder: (yargs) =>
    (yargs as unknown as Argv<object>)
      .option('since', { type: 'string', default: '365d', describe: 'history shown by default (90d, 2026-01-01)' })
      .option('host', { type: 'string', describe: 'address to bind (XFC_REPORT_HOST, default 127.0.0.1)' })
      .option('port', { type: 'number', describe: 'port (XFC_REPORT_PORT, default 9466; 0 = any free port)' })
      .epilogue(
        'Binds 127.0.0.1 unless told otherwise: put the site’s authenticating proxy in front. Pages are built in ' +
          'READ ONLY transactions; give it a database role that can only SELECT. URLs take ?since=90d&volume=vol2.',
      ),
  handler: async (args) => {
    const config = loadConfig();
    since(args.since);
    const pool = await openPool(config.databaseUrl, { maximumPoolSize: 2 });
    const report = await startReportServer(pool, {
      host: args.host ?? config.report.host,
      port: args.port ?? config.report.port,
      defaultSince: args.since,
      warnPercent: config.notify.warnPercent,
      overPercent: config.notify.overPercent,
      log: (line) => console.error(line),
    });
    console.log(`xfc report: serving ${report.url} (database ${redact(config.databaseUrl)}). Ctrl-C stops it.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await report.close();
    await pool.end();
  },
};

export const reportCommand: CommandModule<object, BuildArgs> = {
  command: 'report',
  describe: 'Usage history and scan health as one self-contained HTML page (or serve it: report serve)',
  builder: (yargs) =>
    yargs
      .command(serve as unknown as CommandModule<object, ServeArgs>)
      .option('since', { type: 'string', default: '365d', describe: 'history from (a duration back: 90d; a date)' })
      .option('volume', { type: 'string', describe: 'only this volume (vol5 or the mountpoint)' })
      .option('user', { type: 'string', describe: 'the page of one user instead of the whole report' })
      .option('out', { type: 'string', describe: 'write the page to FILE (default: standard output)' })
      .option('top', { type: 'number', default: 8, describe: 'users drawn on their own in each volume (rest grouped)' })
      .example('$0 report --out report.html', 'the whole report as one file (opens without network)')
      .example('$0 report --user alice --since 90d --out alice.html', 'one user')
      .example('$0 report serve --host 0.0.0.0 --port 8080', 'live, behind the site’s proxy'),
  handler: async (args) => {
    if (!Number.isInteger(args.top) || args.top < 0 || args.top > 30) {
      throw new UsageError(`--top ${args.top}: a whole number from 0 to 30.`);
    }
    const from = since(args.since);
    const config = loadConfig();
    const { page, unknownUser } = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, (pool) =>
        buildReport(pool, {
          since: from,
          volume: args.volume,
          user: args.user,
          topUsers: args.top,
          links: 'anchors',
          warnPercent: config.notify.warnPercent,
          overPercent: config.notify.overPercent,
        }),
      ),
    );
    if (unknownUser) {
      throw new UserError(`No user named ${args.user} is registered. \`xfc users list\` shows who is.`);
    }
    if (args.out) {
      await writeAtomically(args.out, page);
      console.error(`Wrote ${args.out} (${(page.length / 1024).toFixed(0)} KiB).`);
    } else {
      process.stdout.write(page);
    }
  },
};
