import { readFileSync } from 'node:fs';
import type { DatabasePool } from 'slonik';
import { migrate } from '../../db/migrate.js';
import { openPool } from '../../db/pool.js';
import { recordIssuedScan } from '../../db/scan-authority.js';
import { recordScanCompleted, recordScanFailed, type ApplyOutcome, type RecordFailureOptions } from '../../db/scans.js';
import {
  ageBucketLabels,
  ageBucketLimits,
  scanCompleted,
  type ScanCompleted,
  type ScanFailed,
} from '../../lib/messages/v1/index.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/postgres.js';
import { djangoMigrate } from './django.js';

/** Tests set up schemas and rows the way Django would, on plain pg connections of their own. */
export { withClient };

/**
 * Rows as the live service had them (two volumes, three users), loaded after Django's own 0001 (what
 * `sqlmigrate` emits, fixtures/django/master-0001.sql, copied from the project's shared fixtures so that a clone
 * anywhere can run it).
 */
export const rowsFixturePath = new URL('./fixtures/django-rows.sql', import.meta.url);

/** Runs SQL text (several statements allowed) on the database at `url`. */
export async function runSql(url: string, text: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(text);
  });
}

/** A database as the Django app's master leaves it: `manage.py migrate` (its 0001), then the rows. */
export async function loadFixture(url: string): Promise<void> {
  await djangoMigrate(url, '0001');
  await runSql(url, readFileSync(rowsFixturePath, 'utf8'));
}

export interface MigratedDatabase {
  db: TestDatabase;
  pool: DatabasePool;
  close(): Promise<void>;
}

/** A database of its own, optionally with the Django fixture loaded, migrated, with a pool wide enough for races. */
export async function migratedDatabase(options: { fixture?: boolean } = {}): Promise<MigratedDatabase> {
  const db = await createTestDatabase();
  if (options.fixture) await loadFixture(db.url);
  await migrate(db.url);
  const pool = await openPool(db.url, { maximumPoolSize: 40 });
  return {
    db,
    pool,
    close: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

/** Inserts a volume the way Django does (every column given); returns its id. */
export async function insertDisk(url: string, mountpoint: string, sizeBytes = 219902325555200n): Promise<number> {
  return withClient(url, async (client) => {
    const result = await client.query<{ id: number }>(
      `INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
       VALUES ($1, $2, 0, 0) RETURNING id`,
      [mountpoint, sizeBytes.toString()],
    );
    return result.rows[0]!.id;
  });
}

/** Inserts users the way Django's code of 2017 does: all the original columns, and no others. */
export async function insertDjangoUsers(url: string, diskId: number, names: string[]): Promise<number[]> {
  return withClient(url, async (client) => {
    const ids: number[] = [];
    for (const name of names) {
      const result = await client.query<{ id: number }>(
        `INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                       cache_path, cache_disk_id)
         VALUES ($1, $2, true, 329853488332800, 0, 43980465111040, 0, $3, $4) RETURNING id`,
        [name, `${name}@example.org`, `user_cache/${name}`, diskId],
      );
      ids.push(result.rows[0]!.id);
    }
    return ids;
  });
}

let scanCounter = 0;

/** A valid scan.completed message (checked against the schema) with the given figures. */
export function completedScan(
  input: { username: string; now: string; bytes: bigint; temporalByteDays: bigint } & Partial<ScanCompleted>,
): ScanCompleted {
  scanCounter += 1;
  const { bytes, temporalByteDays, ...rest } = input;
  return scanCompleted.parse({
    version: 1,
    scanId: `scan-${input.username}-${scanCounter}`,
    requestId: `request-${scanCounter}`,
    workDir: `/work/xfc/vol1/user_cache/${input.username}`,
    startedAt: input.now,
    finishedAt: input.now,
    ageBasis: 'ctime',
    status: 'complete',
    totals: {
      files: 3,
      directories: 2,
      symlinks: 1,
      others: 0,
      bytes: bytes.toString(),
      allocatedBytes: bytes.toString(),
      temporalByteDays: temporalByteDays.toString(),
    },
    errors: { unreadable: 0, vanished: 0, otherDevice: 0, otherErrors: 0, samples: [] },
    topDirectories: {
      byBytes: [{ path: 'data', files: 3, bytes: bytes.toString(), temporalByteDays: temporalByteDays.toString() }],
      byTemporal: [{ path: 'data', files: 3, bytes: bytes.toString(), temporalByteDays: temporalByteDays.toString() }],
    },
    ageHistogram: ageBucketLabels.map((label, index) => ({
      label,
      maxDays: ageBucketLimits[index] ?? null,
      files: index === 0 ? 3 : 0,
      bytes: index === 0 ? bytes.toString() : '0',
    })),
    ...rest,
  });
}

/**
 * Records a result as the applyScan workflow would for a scan xfc issued: the scan is first recorded as issued
 * (as the scan workflow does when it resolves the directory), then the result is applied with its checks.
 */
export async function recordOwnScan(pool: DatabasePool, message: ScanCompleted): Promise<ApplyOutcome> {
  await recordIssuedScan(pool, message);
  return recordScanCompleted(pool, message);
}

/** `recordOwnScan` for a failure (a failure names no directory: the issued one is made up). */
export async function recordOwnFailure(
  pool: DatabasePool,
  message: ScanFailed,
  options?: RecordFailureOptions,
): Promise<ApplyOutcome> {
  await recordIssuedScan(pool, { ...message, workDir: `/work/xfc/vol1/user_cache/${message.username}` });
  return recordScanFailed(pool, message, options);
}
