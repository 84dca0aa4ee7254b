import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'slonik';
import { backfillUsers } from '../../../lib/backfill/index.js';
import { KiB, TiB } from '../../../lib/common/units.js';
import type { DatabasePool } from '../../../db/pool.js';
import type { ScanReport } from '../../../lib/messages/v1/index.js';
import { walk } from '../../../lib/walker/index.js';
import { makeWorkDir } from '../../support/trees.js';

/** Users' trees and rows for the scenarios. */

/** `<root>/<volume>/user_cache/<name>`. */
export function workDirOf(root: string, volume: string, name: string): string {
  return join(root, volume, 'user_cache', name);
}

/**
 * A large work directory: `dirs` directories `d000…` of `filesPerDir` files whose sizes vary (0…4095 bytes), so
 * totals catch a file counted twice or missed. Returns the number of files.
 */
export function writeBigTree(dir: string, options: { dirs: number; filesPerDir: number }): number {
  const content = Buffer.alloc(4096, 97);
  for (let d = 0; d < options.dirs; d++) {
    const sub = join(dir, `d${String(d).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < options.filesPerDir; f++) {
      writeFileSync(join(sub, `f${f}`), content.subarray(0, (d * 7 + f) % 4096));
    }
  }
  return options.dirs * options.filesPerDir;
}

/** Small work directories for `names` on `volume` (15 files of 1 KB each, as the pipeline tests use). */
export function writeSmallTrees(root: string, volume: string, names: string[]): void {
  for (const name of names) makeWorkDir(root, volume, name, { dirs: 3, filesPerDir: 5, size: 1000 });
}

/** Registers every work directory under `root` as a user (notify on, an address each), as `xfc users backfill`. */
export async function registerUsers(pool: DatabasePool, root: string, names: string[] = []): Promise<void> {
  await backfillUsers(pool, {
    root,
    exclude: [],
    temporalQuota: 300n * TiB,
    hardQuota: 40n * TiB,
    emails: new Map(names.map((name) => [name, `${name}@example.org`])),
    notify: true,
    dryRun: false,
  });
}

/** Sets these users' hard quota to 1 KiB, so that any scan finds them over quota and an email is due. */
export async function putOverQuota(pool: DatabasePool, names: string[]): Promise<void> {
  for (const name of names) {
    await pool.query(sql.unsafe`
      UPDATE xfc_control_user SET hard_limit_size = ${String(KiB)}, email = ${`${name}@example.org`}, notify = true
      WHERE name = ${name}`);
  }
}

/** The walker alone, with the scan's reference time: what an uninterrupted scan of the tree as it is gives. */
export async function cleanWalk(workDir: string, now: string): Promise<ScanReport> {
  const outcome = await walk({ root: workDir, now: new Date(now), ageBasis: 'ctime' });
  if (!outcome.done) throw new Error('the reference walk did not finish');
  return outcome.report;
}

/** Emails the SMTP server took, per recipient. */
export function emailsPerRecipient(messages: Array<{ envelope: { to: string[] } }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    for (const to of message.envelope.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}
