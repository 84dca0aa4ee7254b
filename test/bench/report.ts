/**
 * How long `xfc report` takes to build the whole page for a large fleet: 2,000 users × 365 days of scans (about
 * 700,000 xfc_scan rows) in a database of its own. The peer, measured in the same run, is one sequential pass over
 * the same history (`SELECT count(*), sum(bytes) FROM xfc_scan`): the least any report over it must read.
 *
 *   npm run bench:report [-- --users 2000 --days 365 --runs 3]
 */
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { migrate } from '../../db/migrate.js';
import { openPool } from '../../db/pool.js';
import { buildReport } from '../../lib/report/build.js';
import { generateHistory } from '../../lib/report/synthetic-history.js';
import { createTestDatabase } from '../support/postgres.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    days: { type: 'string', default: '365' },
    runs: { type: 'string', default: '3' },
  },
});
const users = Number(values.users);
const days = Number(values.days);
const runs = Number(values.runs);
const db = await createTestDatabase('xfc_bench_report');
const pool = await openPool(db.url);
try {
  await migrate(db.url);
  const now = new Date();
  let started = performance.now();
  const { scans } = await generateHistory(pool, { users, days, now });
  await pool.query(sql.unsafe`VACUUM ANALYZE xfc_scan`);
  console.log(
    `history: ${users} users, ${scans} scans, generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const since = new Date(now.getTime() - days * 86_400_000);
  const build = async (): Promise<{ ms: number; bytes: number }> => {
    const t = performance.now();
    const { page } = await buildReport(pool, { since, now, links: 'anchors', warnPercent: 90, overPercent: 100 });
    return { ms: performance.now() - t, bytes: page.length };
  };
  const scanAll = async (): Promise<number> => {
    const t = performance.now();
    await pool.one(sql.type(z.object({ n: z.number(), b: z.number() }))`
      SELECT count(*)::int AS n, COALESCE(sum(bytes), 0)::float8 AS b FROM xfc_scan`);
    return performance.now() - t;
  };
  started = performance.now();
  const cold = await build();
  console.log(
    `first build (ECharts loaded, caches cold): ${(cold.ms / 1000).toFixed(2)} s, page ${(cold.bytes / 1024).toFixed(0)} KiB`,
  );
  const builds: number[] = [];
  const peers: number[] = [];
  for (let run = 0; run < runs; run++) {
    peers.push(await scanAll());
    builds.push((await build()).ms);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const report = median(builds);
  const peer = median(peers);
  console.log(`report build, median of ${runs}: ${(report / 1000).toFixed(2)} s (target < 5 s)`);
  console.log(`peer (one pass over xfc_scan), median of ${runs}: ${(peer / 1000).toFixed(3)} s`);
  console.log(`ratio report / one pass over the history: ${(report / peer).toFixed(1)}×`);
} finally {
  await pool.end();
  await db.drop();
}
