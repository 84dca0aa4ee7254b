import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { xfcCommand } from '../../lib/common/invocation.js';
import { formatTime, isoTime } from '../../lib/common/time.js';
import { requiredUser } from '../../cli/user-argument.js';
import { selectUsers } from '../../cli/users-select.js';
import type { UserUsage } from '../../db/users.js';
import { makeTempDir, removeTree } from '../walker/fixtures.js';

const run = promisify(execFile);

async function xfc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('command-line conventions', () => {
  let base: string;
  before(() => {
    base = makeTempDir('xfc-conventions-');
  });
  after(() => removeTree(base));

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await xfc('--version');
    assert.deepEqual(result, { code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help states what each exit status means; completion prints a script that completes subcommands', async () => {
    const help = await xfc('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit status: 0 success; 1 failure .* 2 bad usage .* 3 incomplete/s);
    const script = await xfc('completion');
    assert.match(script.stdout, /###-begin-xfc-completions-###/);
    const words = await xfc('--get-yargs-completions', 'xfc', 'users', '');
    assert.deepEqual(words.stdout.trim().split('\n').slice(0, 3), ['list', 'show', 'backfill']);
  });

  it('--exclude takes one name per flag, leaving the path to be the directory scanned', async () => {
    const root = join(base, 'tree');
    mkdirSync(join(root, '.snapshot'), { recursive: true });
    mkdirSync(join(root, 'cache'), { recursive: true });
    writeFileSync(join(root, '.snapshot', 'old'), 'x'.repeat(1000));
    writeFileSync(join(root, 'cache', 'a'), 'x'.repeat(10));
    writeFileSync(join(root, 'b'), 'x'.repeat(5));
    const result = await xfc('scan', '--exclude', '.snapshot', '--exclude', 'cache', root, '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { root: string; totals: { bytes: string } };
    assert.deepEqual([report.root, report.totals.bytes], [root, '5']);
  });
});

describe('a closed pipe', () => {
  it('ends the process quietly with status 0 instead of an EPIPE stack trace', async () => {
    // `true` exits at once; the write 300 ms later meets a closed pipe (without the handler: status 1 and a trace).
    const script =
      "import('./cli/output.ts').then((output) => { output.exitQuietlyOnClosedPipes(); " +
      "setTimeout(() => process.stdout.write('line\\n'.repeat(100)), 300); })";
    const { stdout, stderr } = await run('bash', [
      '-c',
      `${process.execPath} --import tsx -e "${script}" | true; echo "status \${PIPESTATUS[0]}"`,
    ]);
    assert.deepEqual([stdout.trim(), stderr], ['status 0', '']);
  });
});

describe('one timestamp format, one user argument, one way to suggest commands', () => {
  it('writes times as ISO 8601 UTC for machines and one readable UTC form for people', () => {
    const when = new Date('2026-11-01T10:00:59.123Z');
    assert.equal(isoTime(when), '2026-11-01T10:00:59.123Z');
    assert.equal(formatTime(when), '2026-11-01 10:00 UTC');
    assert.equal(formatTime(null), '—');
  });

  it('takes the user as a positional or --user, once, and checks the name', () => {
    assert.equal(requiredUser({ user: 'alice' }, 'xfc x'), 'alice');
    assert.equal(requiredUser({ username: 'alice' }, 'xfc x'), 'alice');
    assert.equal(requiredUser({ username: 'alice', user: 'alice' }, 'xfc x'), 'alice');
    assert.throws(() => requiredUser({ username: 'alice', user: 'bob' }, 'xfc x'), /takes one user/);
    assert.throws(() => requiredUser({ user: ['alice', 'bob'] }, 'xfc x'), /takes one user/);
    assert.throws(() => requiredUser({}, 'xfc x'), /needs a user: `xfc x NAME` or --user NAME/);
    assert.throws(() => requiredUser({ user: '../etc' }, 'xfc x'), /not a valid username/);
  });

  it('suggests `xfc …` when installed and `npm run …` from a clone', () => {
    assert.equal(xfcCommand('db migrate', 'installed'), 'xfc db migrate');
    assert.equal(xfcCommand('db migrate', 'sources'), 'npm run xfc -- db migrate');
    assert.equal(xfcCommand('dev', 'installed'), 'xfc dev');
    assert.equal(xfcCommand('dev', 'sources'), 'npm run dev');
    assert.equal(xfcCommand('demo --keep', 'sources'), 'npm run demo -- --keep');
    assert.equal(xfcCommand('doctor'), 'npm run xfc -- doctor', 'these tests run from the sources');
  });

  it('selects users for `users list`: near and over by the notification thresholds, sorted, limited', () => {
    const user = (username: string, hardPercent: number, temporalPercent: number, scanned: string | null) =>
      ({
        username,
        volume: 'vol1',
        hardPercent,
        temporalPercent,
        lastScanned: scanned ? new Date(scanned) : null,
      }) as UserUsage;
    const users = [
      user('ann', 10, 95, '2026-11-02T00:00:00Z'),
      user('ben', 120, 5, '2026-11-01T00:00:00Z'),
      user('cat', 50, 50, null),
      user('dan', 89.9, 0, '2026-11-03T00:00:00Z'),
    ];
    const thresholds = { warnPercent: 90, overPercent: 100 };
    const pick = (selection: Partial<Parameters<typeof selectUsers>[1]>): string[] =>
      selectUsers(users, { sort: 'name', over: false, near: false, ...selection }, thresholds).map((u) => u.username);
    assert.deepEqual(pick({}), ['ann', 'ben', 'cat', 'dan']);
    assert.deepEqual(pick({ over: true }), ['ben']);
    assert.deepEqual(pick({ near: true }), ['ann']);
    assert.deepEqual(pick({ near: true, over: true }), ['ann', 'ben']);
    assert.deepEqual(pick({ sort: 'usage' }), ['ben', 'ann', 'dan', 'cat']);
    assert.deepEqual(pick({ sort: 'hard', limit: 2 }), ['ben', 'dan']);
    assert.deepEqual(pick({ sort: 'last-scan' }), ['cat', 'ben', 'ann', 'dan']);
  });
});
