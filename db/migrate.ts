import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { sql } from 'slonik';
import { z } from 'zod';
import { syncDjangoLastScanned } from './django-schema.js';
import { withPool } from './pool.js';

/**
 * Schema migrations: plain SQL files in db/migrations, applied in order by node-pg-migrate (given the URL, it opens
 * its own pg connection: the one part of xfc that does not go through the slonik pool of db/pool.ts). Our history lives in
 * `xfc_migrations`, apart from Django's `django_migrations`. node-pg-migrate holds a Postgres advisory lock while it
 * works and we ask it to wait for that lock, so any number of `xfc db migrate` runs and service start-ups may race:
 * one applies, the others then find nothing left to do.
 */

export const migrationsTable = 'xfc_migrations';

/** Only `NNNN_name.sql` files are migrations; anything else in the folder (dot-files, notes) is ignored. */
const ignorePattern = '(?:\\..*|(?!.*\\.sql$).*)';

/** The folder of SQL files, next to this module in the source tree (also found from a build under dist/). */
export function migrationsDir(): string {
  const candidates = [new URL('./migrations', import.meta.url), new URL('../../db/migrations', import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `The migrations folder is missing (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')}).`,
  );
}

export interface MigrateOptions {
  /** Progress lines ("> Migrating files: ..."); silent by default. */
  log?: (message: string) => void;
}

/**
 * Applies every pending migration in one transaction; returns the names applied (empty when up to date). Then, once
 * Django's own migration has added `xfc_control_user.last_scanned`, copies xfc's values into it (never backwards).
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const log = options.log ?? ((): void => undefined);
  const logger = { debug: log, info: log, warn: log, error: log };
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir(),
    ignorePattern,
    migrationsTable,
    direction: 'up',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    logger,
  });
  await withPool(databaseUrl, syncDjangoLastScanned, { maximumPoolSize: 1 });
  return { applied: applied.map((migration) => migration.name) };
}

/**
 * Makes way for Django's migration 0002 where xfc's old `last_scanned` column is still on xfc_control_user (see
 * 0010_last-scanned-own-copy.sql): 'released' (values kept in xfc_user_state, column dropped), 'kept-django' (Django's
 * 0002 is recorded: the column is Django's) or 'absent'.
 */
export async function releaseLastScanned(databaseUrl: string): Promise<string> {
  const outcome = await withPool(
    databaseUrl,
    (pool) =>
      pool.maybeOneFirst(
        sql.type(z.object({ outcome: z.string().nullable() }))`SELECT xfc_release_last_scanned() AS outcome`,
      ),
    { maximumPoolSize: 1 },
  );
  return outcome ?? 'absent';
}

export interface MigrationStatus {
  applied: Array<{ name: string; runOn: Date }>;
  pending: string[];
}

/** Names of the migration files, in the order they apply. */
export function migrationNames(): string[] {
  const pattern = new RegExp(`^${ignorePattern}$`);
  return readdirSync(migrationsDir())
    .filter((name) => !pattern.test(name))
    .map((name) => name.replace(/\.sql$/, ''))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Which migrations this database has and which are still to apply. Reads only; takes no lock. */
export async function migrationStatus(databaseUrl: string): Promise<MigrationStatus> {
  const rows = await withPool(
    databaseUrl,
    async (pool) => {
      const present = await pool.oneFirst(
        sql.type(z.object({ present: z.boolean() }))`SELECT to_regclass(${migrationsTable}) IS NOT NULL AS present`,
      );
      if (!present) return [];
      return pool.any(
        sql.type(appliedRow)`SELECT name, run_on AS "runOn" FROM ${sql.identifier([migrationsTable])} ORDER BY id`,
      );
    },
    { maximumPoolSize: 1 },
  );
  const done = new Set(rows.map((row) => row.name));
  return {
    applied: rows.map((row) => ({ name: row.name, runOn: row.runOn })),
    pending: migrationNames().filter((name) => !done.has(name)),
  };
}

const appliedRow = z.object({ name: z.string(), runOn: z.date() });
