/**
 * `npm test [-- filter...]`: runs every test/**\/*.test.ts file (or those whose path contains a filter) with Node's
 * test runner and the TypeScript loader; the spec reporter ends with how many tests passed and failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sharedServerVariable, testTemporalKind } from '../test/support/temporal.js';
import { startOwnTemporalServer } from '../test/support/temporal-server.js';

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .map((file) => relative('.', file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = process.env.XFC_TEST_CONCURRENCY ?? '1';

// XFC_TEST_TEMPORAL=server: one real Temporal server for the whole run (each test file makes a namespace of its own
// on it; files that restart Temporal start their own), stopped and its databases dropped when the run ends.
const shared =
  testTemporalKind() === 'server' && !process.env[sharedServerVariable] ? await startOwnTemporalServer() : undefined;
if (shared) console.log(`Temporal server (real, PostgreSQL) for this run at ${shared.address}`);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', env: shared ? { ...process.env, [sharedServerVariable]: shared.address } : process.env },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  void (shared?.stop() ?? Promise.resolve())
    .catch((err: unknown) => console.error(`stopping the shared Temporal server: ${String(err)}`))
    .finally(() => process.exit(code ?? (signal ? 1 : 0)));
});
