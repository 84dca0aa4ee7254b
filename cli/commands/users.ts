import type { Argv, CommandModule } from 'yargs';
import { backfillUsers } from '../../lib/backfill/index.js';
import { loadEmailFile } from '../../lib/backfill/emails.js';
import { ExitCode, UsageError, UserError, errorMessage } from '../../lib/common/errors.js';
import { parseSize } from '../../lib/common/units.js';
import { xfcCommand } from '../../lib/common/invocation.js';
import { loadConfig, redact } from '../../lib/config/env.js';
import { withPool } from '../../db/pool.js';
import { recentScans } from '../../db/scans.js';
import { getUser, listUsers } from '../../db/users.js';
import { printJson } from '../output.js';
import { requiredUser, userArgument, type UserArguments } from '../user-argument.js';
import { formatBackfillReport } from '../users-backfill.js';
import { selectUsers, userSortKeys, type UserSortKey } from '../users-select.js';
import { formatUserDetails, formatUserList, scanJson, userJson } from '../users-view.js';
import { explainDatabaseError } from './db.js';

interface ListArgs {
  over: boolean;
  near: boolean;
  /** One of userSortKeys (yargs checks the choice). */
  sort: string;
  limit?: number;
  volume?: string;
  json: boolean;
}

const list: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'Users with usage against both quotas, last scan and forecast',
  builder: (yargs) =>
    yargs
      .option('over', {
        alias: 'over-quota',
        type: 'boolean',
        default: false,
        describe: 'only users at or over either quota (XFC_NOTIFY_OVER_PERCENT)',
      })
      .option('near', {
        type: 'boolean',
        default: false,
        describe: 'only users near a quota: at or over XFC_NOTIFY_WARN_PERCENT but not over (with --over: both)',
      })
      .option('sort', {
        choices: userSortKeys,
        default: 'name',
        describe:
          'order: name, volume, hard or temporal (largest share first), usage (either), last-scan (stalest first)',
      })
      .option('limit', { type: 'number', describe: 'show at most this many (after sorting)' })
      .option('volume', { type: 'string', describe: 'only users on this volume (e.g. vol5)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (byte figures as strings)' })
      .example('$0 users list --over', 'who is at or over a quota')
      .example('$0 users list --sort usage --limit 10', 'the ten users closest to (or furthest over) a quota')
      .example('$0 users list --sort last-scan --limit 20 --json', 'the 20 stalest measurements, for a script'),
  handler: async (args) => {
    if (args.limit !== undefined && !(Number.isInteger(args.limit) && args.limit >= 1)) {
      throw new UsageError(`--limit must be a whole number of at least 1, not ${args.limit}.`);
    }
    const config = loadConfig();
    const all = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, (pool) => listUsers(pool, args.volume !== undefined ? { volume: args.volume } : {})),
    );
    const users = selectUsers(
      all,
      {
        sort: args.sort as UserSortKey,
        over: args.over,
        near: args.near,
        ...(args.limit !== undefined ? { limit: args.limit } : {}),
      },
      config.notify,
    );
    if (args.json) printJson(users.map(userJson));
    else console.log(formatUserList(users));
  },
};

interface ShowArgs extends UserArguments {
  scans: number;
  json: boolean;
}

const show: CommandModule<object, ShowArgs> = {
  command: 'show [username]',
  describe: 'One user: usage, quotas, scans and notification state',
  builder: (yargs) =>
    userArgument(yargs)
      .option('scans', { type: 'number', default: 10, describe: 'how many recent scans to list' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: async (args) => {
    const name = requiredUser(args, 'xfc users show');
    const config = loadConfig();
    const found = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, async (pool) => {
        const user = await getUser(pool, name);
        return user ? { user, scans: await recentScans(pool, name, args.scans) } : null;
      }),
    );
    if (!found) {
      throw new UserError(`No user named ${name} is registered. \`${xfcCommand('users list')}\` shows who is.`);
    }
    if (args.json) printJson({ ...userJson(found.user), recentScans: found.scans.map(scanJson) });
    else console.log(formatUserDetails(found.user, found.scans));
  },
};

interface BackfillArgs {
  root: string;
  exclude: string[];
  'temporal-quota'?: string;
  'hard-quota'?: string;
  emails?: string;
  ldap?: boolean;
  notify: boolean;
  'dry-run': boolean;
  json: boolean;
}

function sizeOption(name: string, value: string | undefined, fallback: bigint): bigint {
  if (value === undefined) return fallback;
  try {
    return parseSize(value);
  } catch (err) {
    throw new UsageError(`--${name}: ${errorMessage(err)}`);
  }
}

const backfill: CommandModule<object, BackfillArgs> = {
  command: 'backfill',
  describe: 'Register the users (and volumes) found under <root>/vol*/user_cache/<name> that are missing',
  builder: (yargs) =>
    yargs
      .option('root', { type: 'string', describe: 'directory holding the vol* volumes (default XFC_ROOT)' })
      .option('exclude', {
        type: 'string',
        array: true,
        nargs: 1,
        default: [],
        describe: 'a volume to leave out (repeat the flag, or vol1,vol3)',
        coerce: (values: string[]) =>
          values
            .flatMap((value) => value.split(','))
            .map((value) => value.trim())
            .filter(Boolean),
      })
      .option('temporal-quota', {
        type: 'string',
        describe: 'temporal quota for new users, e.g. 300TiB (byte·days; default XFC_DEFAULT_TEMPORAL_QUOTA)',
      })
      .option('hard-quota', {
        type: 'string',
        describe: 'hard quota for new users, e.g. 40TiB (default XFC_DEFAULT_HARD_QUOTA)',
      })
      .option('emails', { type: 'string', describe: 'CSV file of username,email lines (wins over LDAP)' })
      .option('ldap', {
        type: 'boolean',
        describe:
          'look up the other addresses in LDAP (XFC_LDAP_URL, XFC_LDAP_BASE_DN, …); on by default when XFC_LDAP_URL is set, --no-ldap: off',
      })
      .option('notify', {
        type: 'boolean',
        default: true,
        describe: 'turn notifications on for new users that have an address (--no-notify: off for all)',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be done; write nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .example('$0 users backfill --dry-run', 'see what would be registered')
      .example('$0 users backfill --exclude vol1 --emails emails.csv', 'register users with their addresses')
      .example(
        'XFC_LDAP_URL=ldaps://ldap.example XFC_LDAP_BASE_DN=ou=People,dc=example $0 users backfill',
        'addresses from LDAP',
      )
      .epilogue(
        'Only reads the tree. Existing users are never changed; differences are reported. Exit status 1 when a ' +
          'volume could not be read or a name has directories on two volumes.',
      ) as Argv<BackfillArgs>,
  handler: async (args) => {
    const config = loadConfig();
    const temporalQuota = sizeOption('temporal-quota', args['temporal-quota'], config.quotas.temporalByteDays);
    const hardQuota = sizeOption('hard-quota', args['hard-quota'], config.quotas.hardBytes);
    const emails = args.emails ? await loadEmailFile(args.emails) : new Map<string, string>();
    const ldap = args.ldap === false ? undefined : config.ldap;
    if (args.ldap === true && !ldap) {
      throw new UsageError('--ldap needs XFC_LDAP_URL and XFC_LDAP_BASE_DN (see the README’s configuration table).');
    }
    const report = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, (pool) =>
        backfillUsers(pool, {
          root: args.root ?? config.scan.root,
          exclude: args.exclude,
          temporalQuota,
          hardQuota,
          emails,
          ...(ldap && {
            lookupEmails: {
              source: `${redact(ldap.url)} ${ldap.baseDn}`,
              lookup: async (usernames: string[]) => {
                const { lookupLdapEmails } = await import('../../lib/backfill/ldap.js');
                return lookupLdapEmails(ldap, usernames);
              },
            },
          }),
          notify: args.notify,
          dryRun: args['dry-run'],
        }),
      ),
    );
    console.log(args.json ? JSON.stringify(report, null, 2) : formatBackfillReport(report));
    if (report.failures.length > 0) process.exitCode = ExitCode.failure;
  },
};

export const usersCommand: CommandModule = {
  command: 'users <command>',
  describe: 'List and show users; rebuild missing users from their directories',
  builder: (yargs) => yargs.command(list).command(show).command(backfill).demandCommand(1),
  handler: () => undefined,
};
