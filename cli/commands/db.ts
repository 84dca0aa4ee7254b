import type { CommandModule } from 'yargs';
import { ExitCode, UserError, errorMessage } from '../../lib/common/errors.js';
import { loadConfig, redact } from '../../lib/config/env.js';
import { xfcCommand } from '../../lib/common/invocation.js';
import { migrate, migrationStatus, releaseLastScanned } from '../../db/migrate.js';
import { formatTable } from '../../lib/common/table.js';
import { formatTime } from '../../lib/common/time.js';

const connectionCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH']);

/** The error code of `err` or of any error in its cause chain (slonik wraps pg's errors). */
function codes(err: unknown): string[] {
  const found: string[] = [];
  for (let current = err, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') found.push(code);
    const nested = (current as { errors?: unknown }).errors; // AggregateError from a dual-stack connect
    if (Array.isArray(nested)) found.push(...nested.flatMap(codes));
    current = current.cause;
  }
  return found;
}

/**
 * Runs database work for a command, turning the failures a person can fix (Postgres unreachable, wrong database or
 * credentials, tables missing) into messages that say what to do.
 */
export async function explainDatabaseError<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const found = codes(err);
    const where = redact(databaseUrl);
    if (found.some((code) => connectionCodes.has(code))) {
      throw new UserError(
        `Cannot reach Postgres at ${where} (${errorMessage(err)}). Start it, or set XFC_DATABASE_URL.`,
      );
    }
    if (found.includes('3D000')) {
      throw new UserError(`The database in ${where} does not exist. Create it (createdb), or set XFC_DATABASE_URL.`);
    }
    if (found.includes('28P01') || found.includes('28000')) {
      throw new UserError(`Postgres refused the credentials in ${where}. Check XFC_DATABASE_URL.`);
    }
    if (found.includes('42P01')) {
      throw new UserError(`The database ${where} lacks xfc's tables (${errorMessage(err)}). Run \`xfc db migrate\`.`);
    }
    throw err;
  }
}

const migrateCommand: CommandModule<object, { json: boolean }> = {
  command: 'migrate',
  describe: 'Apply pending schema migrations (safe to run while others do)',
  builder: (yargs) => yargs.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: async (args) => {
    const { databaseUrl } = loadConfig();
    const { applied } = await explainDatabaseError(databaseUrl, () => migrate(databaseUrl));
    if (args.json) {
      console.log(JSON.stringify({ applied }));
    } else if (applied.length === 0) {
      console.log(`${redact(databaseUrl)} is up to date; no migration to apply.`);
    } else {
      console.log(`Applied to ${redact(databaseUrl)}:\n${applied.map((name) => `  ${name}`).join('\n')}`);
    }
  },
};

const statusCommand: CommandModule<object, { json: boolean }> = {
  command: 'status',
  describe: 'List applied and pending migrations',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .epilogue('Exit status: 0 up to date, 3 migrations pending (run `xfc db migrate`), 1 database unreachable.'),
  handler: async (args) => {
    const { databaseUrl } = loadConfig();
    const status = await explainDatabaseError(databaseUrl, () => migrationStatus(databaseUrl));
    // Scripts and readiness checks can tell "not migrated yet" from "up to date" without parsing the output.
    if (status.pending.length > 0) process.exitCode = ExitCode.partial;
    if (args.json) {
      console.log(JSON.stringify(status, null, 2));
      return;
    }
    const rows = [
      ...status.applied.map((migration) => [migration.name, `applied ${formatTime(migration.runOn)}`]),
      ...status.pending.map((name) => [name, 'pending']),
    ];
    console.log(`${redact(databaseUrl)} (history in table xfc_migrations)`);
    console.log(formatTable(['MIGRATION', 'STATE'], rows));
    if (status.pending.length > 0)
      console.log(`\n${status.pending.length} pending: run \`${xfcCommand('db migrate')}\`.`);
  },
};

const djangoPrepareCommand: CommandModule = {
  command: 'django-prepare',
  describe: "Make way for the Django app's migration 0002 (it adds last_scanned): keep xfc's values, drop xfc's column",
  handler: async () => {
    const { databaseUrl } = loadConfig();
    const outcome = await explainDatabaseError(databaseUrl, async () => {
      await migrate(databaseUrl);
      return releaseLastScanned(databaseUrl);
    });
    console.log(djangoPrepareMessages[outcome] ?? `xfc_release_last_scanned(): ${outcome}`);
  },
};

const djangoPrepareMessages: Record<string, string> = {
  absent:
    "Nothing to do: xfc_control_user has no last_scanned; Django's 0002 can add it (`manage.py migrate xfc_control`).",
  released:
    "Kept every last_scanned in xfc_user_state and dropped xfc's column: now run `manage.py migrate xfc_control`, then `xfc db migrate`.",
  'kept-django':
    "last_scanned is Django's (its 0002 is recorded), so it stays. If that 0002 was faked, un-record it first: `manage.py migrate --fake xfc_control 0001`, then run this again.",
};

export const dbCommand: CommandModule = {
  command: 'db <command>',
  describe: 'Database schema: apply migrations, show their state',
  builder: (yargs) =>
    yargs.command(migrateCommand).command(statusCommand).command(djangoPrepareCommand).demandCommand(1),
  handler: () => undefined,
};
