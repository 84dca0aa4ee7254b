import pg from 'pg';
import { UserError } from '../../lib/common/errors.js';
import { redact } from '../../lib/config/env.js';

/** The SQLSTATE of an error from pg, if any. */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a server-side close after we are done is not our concern
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
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
    await withClient(databaseUrl, () => Promise.resolve());
    return { name, created: false };
  } catch (err) {
    if (sqlState(err) !== '3D000') throw err; // unreachable, refused credentials: the caller explains
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  try {
    await withClient(maintenance.toString(), (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
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
