import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { TiB } from '../../lib/common/units.js';
import { completedScan, migratedDatabase, type MigratedDatabase, recordOwnScan } from '../db/helpers.js';
import { makeTree } from '../backfill/tree.js';

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `xfc` CLI against the test database. */
async function xfc(databaseUrl: string, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { ...process.env, XFC_DATABASE_URL: databaseUrl },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const count = z.object({ n: z.number() });

describe('xfc users', () => {
  let t: MigratedDatabase;
  let tree: ReturnType<typeof makeTree>;
  let files: string;
  before(async () => {
    t = await migratedDatabase();
    tree = makeTree();
    files = mkdtempSync(`${tmpdir()}/xfc-cli-users-`);
  });
  after(async () => {
    tree.remove();
    rmSync(files, { recursive: true, force: true });
    await t.close();
  });
  const users = (): Promise<number> =>
    t.pool.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM xfc_control_user`);

  it('backfill --dry-run --json reports the plan and writes nothing', async () => {
    const result = await xfc(
      t.db.url,
      'users',
      'backfill',
      '--root',
      tree.root,
      '--exclude',
      'vol4',
      '--dry-run',
      '--json',
    );
    assert.equal(result.code, 1, 'dup on two volumes needs a decision');
    const report = JSON.parse(result.stdout) as {
      dryRun: boolean;
      quotas: { temporalByteDays: string; hardBytes: string };
      created: Array<{ username: string }>;
      conflicts: Array<{ username: string }>;
    };
    assert.equal(report.dryRun, true);
    assert.deepEqual(report.quotas, { temporalByteDays: String(300n * TiB), hardBytes: String(40n * TiB) });
    assert.deepEqual(
      report.created.map((user) => user.username),
      ['alice', 'bob', 'carol', 'erin'],
    );
    assert.deepEqual(
      report.conflicts.map((conflict) => conflict.username),
      ['dup'],
    );
    assert.equal(await users(), 0);
  });

  it('backfill refuses a bad email file, naming the lines, before writing', async () => {
    const csv = `${files}/emails.csv`;
    writeFileSync(csv, 'username,email\nalice,alice@example.org\nbob;bob@example.org\nBad Name,x@example.org\n');
    const result = await xfc(t.db.url, 'users', 'backfill', '--root', tree.root, '--emails', csv);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /has 2 bad lines; nothing was written/);
    assert.match(result.stderr, /line 3: expected 2 fields/);
    assert.match(result.stderr, /line 4: username "Bad Name" contains spaces/);
    assert.equal(await users(), 0);
  });

  it('backfill refuses unknown volumes and sizes without a unit system', async () => {
    const unknown = await xfc(t.db.url, 'users', 'backfill', '--root', tree.root, '--exclude', 'vol1,vol9');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--exclude vol9: no such volume/);
    const badSize = await xfc(t.db.url, 'users', 'backfill', '--root', tree.root, '--hard-quota', '40T');
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /--hard-quota: "40T": unknown unit/);
    assert.equal(await users(), 0);
  });

  it('backfill creates the users, prints the summary and the quota units; a second run creates nothing', async () => {
    const csv = `${files}/good.csv`;
    writeFileSync(csv, 'alice,alice@example.org\ncarol,carol@example.org\n');
    const first = await xfc(
      t.db.url,
      'users',
      'backfill',
      '--root',
      tree.root,
      '--exclude',
      'vol4',
      '--emails',
      csv,
      '--hard-quota',
      '40TB',
    );
    assert.equal(first.code, 1, first.stderr);
    assert.match(
      first.stdout,
      /hard 36\.4 TiB \(40,000,000,000,000 bytes\); TiB = 2\^40 bytes \(TB would mean 10\^12\)/,
    );
    assert.match(first.stdout, /Created 4 users: alice \(vol1\), bob \(vol1\), carol \(vol2\), erin \(vol3\)/);
    assert.match(first.stdout, /No email address, so notifications off \(2\): bob, erin/);
    assert.match(first.stdout, /vol1\/user_cache\/linked: a symbolic link \(not followed\)/);
    assert.match(first.stdout, /dup: directories on vol2 and vol3: not created/);
    assert.match(first.stdout, /^vol1 +registered now +\S+ \S+ +2 +2 +0 +9/m);
    assert.equal(await users(), 4);

    const second = await xfc(t.db.url, 'users', 'backfill', '--root', tree.root, '--exclude', 'vol4');
    assert.match(second.stdout, /Nothing to create: 4 users are already registered, 1 needs a decision\./);
    assert.equal(await users(), 4);

    // The decision: dup's directory on vol3 is the stale one.
    const resolved = await xfc(
      t.db.url,
      'users',
      'backfill',
      '--root',
      tree.root,
      '--exclude',
      'vol3,vol4',
      '--no-notify',
    );
    assert.equal(resolved.code, 0, resolved.stdout);
    assert.match(resolved.stdout, /Created 1 user: dup \(vol2\)/);
    assert.equal(await users(), 5);
  });

  it('lists users with usage in human units, by volume, over quota, and as JSON', async () => {
    await recordOwnScan(
      t.pool,
      completedScan({
        username: 'bob',
        now: '2026-11-01T10:00:00.000Z',
        bytes: 4n * TiB,
        temporalByteDays: 100n * TiB,
      }),
    );
    await recordOwnScan(
      t.pool,
      completedScan({ username: 'carol', now: '2026-11-01T10:00:00.000Z', bytes: 50n * TiB, temporalByteDays: 1n }),
    );
    const text = await xfc(t.db.url, 'users', 'list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^bob +vol1 +4\.0 TiB \/ 36\.4 TiB +11\.0 % +100\.0 TiB·day \/ 300\.0 TiB·day +33\.3 % +2026-11-01 10:00 UTC complete +2026-12-21 \(in 50 days\)$/m,
    );
    assert.match(text.stdout, /^alice +vol1 .* never +not scanned yet$/m);
    assert.match(text.stdout, /5 users\. Sizes in IEC units/);

    const vol2 = await xfc(t.db.url, 'users', 'list', '--volume', 'vol2', '--json');
    const listed = JSON.parse(vol2.stdout) as Array<{ username: string; hardUsed: string; hardPercent: number }>;
    assert.deepEqual(
      listed.map((user) => [user.username, user.hardUsed]),
      [
        ['carol', String(50n * TiB)],
        ['dup', '0'],
      ],
    );
    const over = await xfc(t.db.url, 'users', 'list', '--over-quota');
    assert.match(over.stdout, /^carol +vol2 +50\.0 TiB \/ 36\.4 TiB +137\.4 %/m);
    assert.doesNotMatch(over.stdout, /^bob/m);

    // --sort usage: the largest share of either quota first; --limit after sorting; --over is --over-quota.
    const names = async (...args: string[]): Promise<string[]> => {
      const result = await xfc(t.db.url, 'users', 'list', '--json', ...args);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as Array<{ username: string }>).map((user) => user.username);
    };
    assert.deepEqual(await names('--sort', 'usage', '--limit', '2'), ['carol', 'bob']);
    assert.deepEqual(await names('--over'), ['carol']);
    assert.deepEqual(await names('--near'), [], 'bob at 33 % is not near (90 %)');
    assert.deepEqual(
      await xfc(t.db.url, 'users', 'list', '--near').then((result) => result.stdout.trim()),
      'No users match.',
    );
    const stalest = await names('--sort', 'last-scan');
    assert.deepEqual(stalest.slice(-2).sort(), ['bob', 'carol'], 'never-scanned users come first');
    const badLimit = await xfc(t.db.url, 'users', 'list', '--limit', '0');
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit must be a whole number of at least 1/);
    const badSort = await xfc(t.db.url, 'users', 'list', '--sort', 'size');
    assert.equal(badSort.code, 2);
  });

  it('shows one user with quotas, forecast, recent scans and notification state', async () => {
    const shown = await xfc(t.db.url, 'users', 'show', 'bob');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /email +\(none\); notifications off/);
    assert.match(
      shown.stdout,
      /hard usage +4\.0 TiB of 36\.4 TiB \(11\.0 %\); exactly 4,398,046,511,104 of 40,000,000,000,000 bytes/,
    );
    assert.match(shown.stdout, /forecast +temporal quota reached on 2026-12-21 \(in 50 days\) at the current size/);
    assert.match(shown.stdout, /notification +level ok; last sent never/);
    assert.match(
      shown.stdout,
      /Recent scans \(newest first\):\nAPPLIED .*\n-+.*\n.*2026-11-01 10:00 UTC +complete +4\.0 TiB +4\.0 TiB +100\.0 TiB·day/,
    );

    // An older scan of carol's that met bind mounts and vanishing files: history only, its errors in its note.
    await recordOwnScan(
      t.pool,
      completedScan({
        username: 'carol',
        now: '2026-10-01T10:00:00.000Z',
        bytes: 3n * TiB,
        temporalByteDays: 90n * TiB,
        status: 'partial',
        errors: { unreadable: 0, vanished: 2, otherDevice: 0, otherMount: 3, otherErrors: 0, samples: [] },
      }),
    );
    const carol = await xfc(t.db.url, 'users', 'show', 'carol');
    assert.equal(carol.code, 0, carol.stderr);
    assert.match(
      carol.stdout,
      /2026-10-01 10:00 UTC +partial +3\.0 TiB .*older than the usage shown: history only; 2 vanished, 3 other mounts;/,
    );

    const json = JSON.parse((await xfc(t.db.url, 'users', 'show', 'bob', '--json')).stdout) as {
      temporalUsed: string;
      forecast: { kind: string; days: number };
      recentScans: Array<{ bytes: string }>;
    };
    assert.equal(json.temporalUsed, String(100n * TiB));
    assert.deepEqual([json.forecast.kind, json.forecast.days], ['on', 50]);
    assert.equal(json.recentScans[0]?.bytes, String(4n * TiB));

    // The user may be named with --user as well (as in every other command), but only once.
    const byOption = await xfc(t.db.url, 'users', 'show', '--user', 'bob', '--json');
    assert.equal(byOption.code, 0, byOption.stderr);
    assert.equal((JSON.parse(byOption.stdout) as { username: string }).username, 'bob');
    const twice = await xfc(t.db.url, 'users', 'show', 'bob', '--user', 'carol');
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /takes one user; "bob" and "carol" were given/);
    const none = await xfc(t.db.url, 'users', 'show');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs a user: `xfc users show NAME` or --user NAME/);

    const missing = await xfc(t.db.url, 'users', 'show', 'nobody');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No user named nobody is registered/);
    const invalid = await xfc(t.db.url, 'users', 'show', '../etc');
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /is not a valid username/);
  });

  it('says how to fix an unreachable database', async () => {
    const result = await xfc('postgres://postgres@127.0.0.1:1/xfc', 'users', 'list');
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Cannot reach Postgres at postgres:\/\/postgres@127\.0\.0\.1:1\/xfc .*set XFC_DATABASE_URL/,
    );
  });
});
