import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where tests may create and drop databases; CI and the machine use trust auth on 127.0.0.1. */
export const adminUrl = process.env.XFC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
  /**
   * Takes the database away as an outage would (its connections ended, new ones refused: "not currently accepting
   * connections") or gives it back. The rest of the server, and other tests' databases, are untouched.
   */
  setReachable(reachable: boolean): Promise<void>;
}

/** Runs `run` with a plain pg connection of its own to `url`, closed afterwards whatever happens. */
export async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(adminUrl, run);
}

/** A fresh, empty database of its own for one test file; `drop()` removes it even with open connections. */
export async function createTestDatabase(prefix = 'xfc_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    setReachable: (reachable) =>
      admin(async (client) => {
        await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${reachable}`);
        if (!reachable) {
          await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        }
      }),
  };
}
