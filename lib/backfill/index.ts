import { resolve } from 'node:path';
import type { DatabasePool } from 'slonik';
import { UsageError } from '../common/errors.js';
import { runBackfill } from './apply.js';
import { discoverUserDirectories } from './discover.js';
import type { LdapAddresses } from './ldap.js';
import { backfillReport, type BackfillReport } from './report.js';

export type { BackfillReport } from './report.js';

export interface BackfillOptions {
  /** Directory holding the vol* volumes, e.g. /work/xfc. */
  root: string;
  /** Volume names to leave out, e.g. ['vol1', 'vol3']. */
  exclude: string[];
  temporalQuota: bigint;
  hardQuota: bigint;
  /** username → address (the emails file); it wins over LDAP. Users with no address get notify off. */
  emails: Map<string, string>;
  /** Looks up the addresses the emails file does not give (LDAP); see lib/backfill/ldap.ts. */
  lookupEmails?: { source: string; lookup: (usernames: string[]) => Promise<LdapAddresses> };
  notify: boolean;
  dryRun: boolean;
}

/**
 * Rebuilds missing users (and their volumes) from the directories under `root`: discovery reads the tree (never
 * writes it), then the plan is made and applied in one locked transaction (or only made, for a dry run).
 */
export async function backfillUsers(pool: DatabasePool, options: BackfillOptions): Promise<BackfillReport> {
  const root = resolve(options.root);
  const discovery = await discoverUserDirectories(root, { exclude: options.exclude });
  if (discovery.unknownExcludes.length > 0) {
    const found = discovery.volumes.map((volume) => volume.name).join(', ') || 'none';
    throw new UsageError(
      `--exclude ${discovery.unknownExcludes.join(',')}: no such volume under ${root} (found: ${found}). ` +
        'Nothing was written.',
    );
  }
  const unnamed = discovery.directories.map((dir) => dir.username).filter((name) => !options.emails.has(name));
  const looked = options.lookupEmails ? await options.lookupEmails.lookup(unnamed) : undefined;
  const settings = {
    temporalQuota: options.temporalQuota,
    hardQuota: options.hardQuota,
    notify: options.notify,
    emails: new Map([...(looked?.emails ?? []), ...options.emails]),
  };
  const outcome = await runBackfill(pool, discovery, settings, { dryRun: options.dryRun });
  const report = backfillReport(discovery, outcome, settings);
  if (!options.lookupEmails || !looked) return report;
  const created = new Set(report.created.map((user) => user.username));
  return {
    ...report,
    ldap: {
      source: options.lookupEmails.source,
      addresses: report.created.filter((user) => !options.emails.has(user.username) && looked.emails.has(user.username))
        .length,
      problems: looked.problems.filter((problem) => created.has(problem.username)),
    },
  };
}
