import { sql } from 'slonik';
import { withPool } from '../../db/pool.js';
import { UserError } from '../../lib/common/errors.js';
import { redact } from '../../lib/config/env.js';

/** The SQLSTATE of a PostgreSQL error, also when slonik wraps it (e.g. 23505 as a unique-violation error). */
function sqlState(err: unknown): string | undefined {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** Runs one statement on its own connection to `url`, closed afterwards. */
async function runOnce(url: string, statement: ReturnType<typeof sql.unsafe>): Promise<void> {
  await withPool(url, (pool) => pool.query(statement), { maximumPoolSize: 1 });
}

/**
 * Creates the database named in `databaseUrl` when it does not exist yet (a fresh machine has no `xfc` database),
 * connecting to the server's `postgres` database with the same credentials to do so. Safe to race.
 */
export async function ensureDatabase(databaseUrl: string): Promise<{ name: string; created: boolean }> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new UserError(`XFC_DATABASE_URL=${redact(databaseUrl)} names no database.`);
  try {
    await runOnce(databaseUrl, sql.unsafe`SELECT 1`);
    return { name, created: false };
  } catch (err) {
    if (sqlState(err) !== '3D000') throw err; // unreachable, refused credentials: the caller explains
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  try {
    await runOnce(maintenance.toString(), sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
    return { name, created: true };
  } catch (err) {
    // Created meanwhile by someone else: 42P04, or 23505 when both CREATE DATABASE statements ran at once.
    if (sqlState(err) === '42P04' || sqlState(err) === '23505') return { name, created: false };
    if (sqlState(err) === '42501') {
      throw new UserError(
        `The database ${name} does not exist and the user in XFC_DATABASE_URL may not create it. ` +
          `Create it as a superuser: createdb -h ${url.hostname} -p ${url.port || 5432} -O ${decodeURIComponent(url.username) || 'postgres'} ${name}`,
      );
    }
    throw err;
  }
}
