import type { Argv, CommandModule } from 'yargs';
import { backfillUsers } from '../../backfill/index.js';
import { loadEmailFile } from '../../backfill/emails.js';
import { ExitCode, UsageError, UserError } from '../../common/errors.js';
import { parseSize } from '../../common/units.js';
import { usernameProblem } from '../../common/username.js';
import { loadConfig, redact } from '../../config/env.js';
import { withPool } from '../../db/pool.js';
import { recentScans } from '../../db/scans.js';
import { getUser, listUsers } from '../../db/users.js';
import { formatBackfillReport } from '../users-backfill.js';
import { formatUserDetails, formatUserList, scanJson, userJson } from '../users-view.js';
import { explainDatabaseError } from './db.js';

interface ListArgs {
  'over-quota': boolean;
  volume?: string;
  json: boolean;
}

const list: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'Users with usage against both quotas, last scan and forecast',
  builder: (yargs) =>
    yargs
      .option('over-quota', { type: 'boolean', default: false, describe: 'only users at or over either quota' })
      .option('volume', { type: 'string', describe: 'only users on this volume (e.g. vol5)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (byte figures as strings)' })
      .example('$0 users list --over-quota', 'who is at or over a quota'),
  handler: async (args) => {
    const config = loadConfig();
    const users = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, (pool) =>
        listUsers(pool, {
          overQuota: args['over-quota'],
          ...(args.volume !== undefined ? { volume: args.volume } : {}),
        }),
      ),
    );
    console.log(args.json ? JSON.stringify(users.map(userJson), null, 2) : formatUserList(users));
  },
};

interface ShowArgs {
  name: string;
  scans: number;
  json: boolean;
}

const show: CommandModule<object, ShowArgs> = {
  command: 'show <name>',
  describe: 'One user: usage, quotas, scans and notification state',
  builder: (yargs) =>
    yargs
      .positional('name', { type: 'string', demandOption: true, describe: 'username' })
      .option('scans', { type: 'number', default: 10, describe: 'how many recent scans to list' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: async (args) => {
    const problem = usernameProblem(args.name);
    if (problem) throw new UsageError(`${JSON.stringify(args.name)} is not a valid username: it ${problem}.`);
    const config = loadConfig();
    const found = await explainDatabaseError(config.databaseUrl, () =>
      withPool(config.databaseUrl, async (pool) => {
        const user = await getUser(pool, args.name);
        return user ? { user, scans: await recentScans(pool, args.name, args.scans) } : null;
      }),
    );
    if (!found) {
      throw new UserError(`No user named ${args.name} is registered. \`xfc users list\` shows who is.`);
    }
    console.log(
      args.json
        ? JSON.stringify({ ...userJson(found.user), recentScans: found.scans.map(scanJson) }, null, 2)
        : formatUserDetails(found.user, found.scans),
    );
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
    throw new UsageError(`--${name}: ${(err as Error).message}`);
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
        default: [],
        describe: 'volumes to leave out, e.g. vol1,vol3',
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
                const { lookupLdapEmails } = await import('../../backfill/ldap.js');
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
