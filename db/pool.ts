import {
  createPool,
  createTypeParserPreset,
  SchemaValidationError,
  type DatabasePool,
  type Interceptor,
  type DriverTypeParser,
} from 'slonik';

export type { DatabasePool } from 'slonik';

/**
 * bigint columns hold bytes and byte·days, which overflow 2^53: they arrive as BigInt, never as lossy numbers.
 * Timestamps arrive as Date.
 */
const typeParsers: DriverTypeParser[] = [
  ...createTypeParserPreset().filter((parser) => !['int8', 'timestamp', 'timestamptz'].includes(parser.name)),
  { name: 'int8', parse: (value: string) => BigInt(value) },
  { name: 'timestamptz', parse: (value: string) => new Date(value) },
  { name: 'timestamp', parse: (value: string) => new Date(`${value}Z`) },
];

/** Validates every row of a `sql.type(schema)` query against its zod schema (slonik's documented pattern). */
const resultParserInterceptor: Interceptor = {
  name: 'xfc-result-parser',
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const parsed = parser.safeParse(row);
    if (!parsed.success) throw new SchemaValidationError(query, row, parsed.error.issues);
    return parsed.data as typeof row;
  },
};

export interface PoolOptions {
  /** Connections kept open; the control worker needs a handful, the CLI one or two. */
  maximumPoolSize?: number;
  /** How long connecting may take before the query fails (default 10 s; `xfc doctor` waits 5 s). */
  connectionTimeoutMs?: number;
}

/** Opens a slonik pool (pg underneath) on `databaseUrl`. */
export async function openPool(databaseUrl: string, options: PoolOptions = {}): Promise<DatabasePool> {
  return createPool(databaseUrl, {
    typeParsers,
    interceptors: [resultParserInterceptor],
    maximumPoolSize: options.maximumPoolSize ?? 5,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    statementTimeout: 60_000,
    idleTimeout: 30_000,
    // slonik's default runs DISCARD ALL whenever a connection goes back to the pool: one statement and round trip
    // more after every query and transaction, and the backend's caches reset. xfc keeps no session state to discard:
    // settings come with the connection (statement_timeout), locks are transaction-scoped (pg_advisory_xact_lock),
    // and migrations run on node-pg-migrate's own connection.
    resetConnection: async () => {},
  });
}

/** Opens a pool for one piece of work (a CLI command) and always closes it. */
export async function withPool<T>(
  databaseUrl: string,
  run: (pool: DatabasePool) => Promise<T>,
  options: PoolOptions = {},
): Promise<T> {
  const pool = await openPool(databaseUrl, { maximumPoolSize: 2, ...options });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}
