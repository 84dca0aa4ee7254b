/**
 * Adds a year (by default) of made-up scan history for a few hundred users to the database in XFC_DATABASE_URL,
 * beside whatever is there (e.g. the demo's users), so that `xfc report` has something to draw.
 *
 *   npm run history:generate -- --users 300 --days 365 [--prefix user] [--seed 17]
 *
 * It refuses a database that already holds users with the prefix (run it once per database).
 */
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadConfig, redact } from '../lib/config/env.js';
import { migrate } from '../db/migrate.js';
import { withPool } from '../db/pool.js';
import { ensureDatabase } from '../cli/ops/database.js';
import { generateHistory } from '../lib/report/synthetic-history.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '300' },
    days: { type: 'string', default: '365' },
    prefix: { type: 'string', default: 'user' },
    seed: { type: 'string', default: '17' },
  },
});
const users = Number(values.users);
const days = Number(values.days);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(days) || days < 1) {
  console.error('--users and --days take whole numbers ≥ 1.');
  process.exit(2);
}
const config = loadConfig();
await ensureDatabase(config.databaseUrl);
await migrate(config.databaseUrl);
await withPool(config.databaseUrl, async (pool) => {
  const prefix = values.prefix;
  const taken = await pool.oneFirst(
    sql.type(
      z.object({ n: z.number() }),
    )`SELECT count(*)::int AS n FROM xfc_control_user WHERE name LIKE ${`${prefix}%`}`,
  );
  if (taken > 0) {
    console.error(`${redact(config.databaseUrl)} already has ${taken} users named ${prefix}…; nothing added.`);
    process.exitCode = 1;
    return;
  }
  const started = performance.now();
  const { scans } = await generateHistory(pool, { users, days, now: new Date(), prefix, seed: Number(values.seed) });
  console.log(
    `Added ${users} users and ${scans} scans (${days} days) to ${redact(config.databaseUrl)} in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s. Next: npm run xfc -- report --out report.html`,
  );
});
