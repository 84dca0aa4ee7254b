import { resolve } from 'node:path';
import type { DatabasePool } from 'slonik';
import { UsageError } from '../common/errors.js';
import { runBackfill } from './apply.js';
import { discoverUserDirectories } from './discover.js';
import { backfillReport, type BackfillReport } from './report.js';

export type { BackfillReport } from './report.js';

export interface BackfillOptions {
  /** Directory holding the vol* volumes, e.g. /work/xfc. */
  root: string;
  /** Volume names to leave out, e.g. ['vol1', 'vol3']. */
  exclude: string[];
  temporalQuota: bigint;
  hardQuota: bigint;
  /** username → address; users missing here get notify off. */
  emails: Map<string, string>;
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
  const settings = {
    temporalQuota: options.temporalQuota,
    hardQuota: options.hardQuota,
    notify: options.notify,
    emails: options.emails,
  };
  const outcome = await runBackfill(pool, discovery, settings, { dryRun: options.dryRun });
  return backfillReport(discovery, outcome, settings);
}
