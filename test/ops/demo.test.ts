import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseEmailCsv } from '../../lib/backfill/emails.js';
import { buildDemoTree, demoUsers, workDirOf } from '../../cli/ops/demo-tree.js';
import { freePort } from '../support/ports.js';
import { adminUrl } from '../support/postgres.js';
import { spawnXfc } from '../support/processes.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';

describe('the demo tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xfc-demo-tree-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives each file its size and age, and writes nothing the second time', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    const first = buildDemoTree(join(dir, 'xfc'), join(dir, 'emails.csv'), now);
    assert.equal(
      first.written,
      demoUsers.reduce((sum, user) => sum + user.files.length, 0),
    );
    const bob = demoUsers.find((user) => user.name === 'bob')!;
    const run1 = statSync(join(workDirOf(first.root, bob), 'data/run1.nc'));
    assert.equal(run1.size, 2 * 1024 * 1024);
    assert.equal(Math.floor((now.getTime() - run1.mtimeMs) / 86_400_000), 100);
    const copy = statSync(join(workDirOf(first.root, bob), 'archive/run1-copy.nc'));
    assert.equal(copy.ino, run1.ino, 'a hard link: one inode, counted once');
    const carol = demoUsers.find((user) => user.name === 'carol')!;
    assert.ok(lstatSync(join(workDirOf(first.root, carol), 'latest')).isSymbolicLink());

    const second = buildDemoTree(join(dir, 'xfc'), join(dir, 'emails.csv'), now);
    assert.equal(second.written, 0);
    const { emails, problems } = parseEmailCsv(readFileSync(second.emailsFile, 'utf8'));
    assert.deepEqual(problems, []);
    assert.deepEqual([...emails.keys()], ['alice', 'bob', 'carol']);
  });
});

/** The row of `user` in the usage table the demo prints. */
function rowOf(output: string, user: string): string {
  return output.split('\n').find((line) => line.startsWith(`${user} `) && line.includes(' vol')) ?? '';
}

/**
 * `xfc demo` in a fresh place — a database that does not exist yet, its own vhost and no Temporal running — runs
 * the stack itself, and gives the users the levels the tree was made for; a second run changes nothing.
 */
describe('xfc demo', () => {
  const databaseName = `xfc_test_demo_${randomBytes(5).toString('hex')}`;
  let vhost: TestVhost;
  let varDir: string;
  let env: Record<string, string>;

  before(async () => {
    vhost = await createTestVhost();
    varDir = mkdtempSync(join(tmpdir(), 'xfc-demo-var-'));
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${databaseName}`;
    env = {
      XFC_DATABASE_URL: databaseUrl.toString(),
      XFC_AMQP_URL: vhost.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      XFC_TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
      XFC_VAR_DIR: varDir,
      XFC_ROOT: '',
      XFC_SMTP_URL: '',
      XFC_AGE_BASIS: '',
      XFC_METRICS_PORT: '0',
      XFC_TEMPORAL_METRICS_PORT: '0',
    };
  });

  after(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    await admin.end();
    await vhost.delete();
    rmSync(varDir, { recursive: true, force: true });
  });

  it('scans the demo users through the pipeline: one ok, one warning, two over, two emails', async () => {
    const demo = spawnXfc(['demo'], env);
    assert.equal(await demo.exited, 0, demo.output());
    const output = demo.output();
    assert.match(output, /stack run by the demo/);
    assert.match(output, /Age basis: mtime/);
    assert.match(rowOf(output, 'alice'), /12\.5 %.*1\.9 %/);
    assert.match(rowOf(output, 'bob'), /31\.3 %.*93\.8 %/);
    assert.match(rowOf(output, 'carol'), /125\.0 %.*394\.5 %/);
    assert.match(rowOf(output, 'dave'), /112\.5 %.*5\.8 %/);
    const emailLines = output.split('\n').filter((line) => / this run /.test(line));
    assert.equal(emailLines.length, 3, output);
    for (const [user, kind] of [
      ['bob', 'warning'],
      ['carol', 'over'],
    ] as const) {
      const line = emailLines.find((candidate) => candidate.startsWith(`${user} `)) ?? '';
      assert.match(line, new RegExp(`${kind} .* sent to ${user}@example\\.org`));
      const file = /(\S+\.eml)/.exec(line)?.[1];
      assert.ok(file && existsSync(file.startsWith('/') ? file : join(process.cwd(), file)), line);
    }
    assert.match(emailLines.find((line) => line.startsWith('dave ')) ?? '', /recorded, not sent/);
    assert.equal(existsSync(join(varDir, 'dev.json')), false, 'the demo’s stack is gone');
  });

  it('runs again with the same result and no second email', async () => {
    const demo = spawnXfc(['demo'], env);
    assert.equal(await demo.exited, 0, demo.output());
    const output = demo.output();
    assert.match(output, /already there; file ages set again/);
    assert.match(rowOf(output, 'carol'), /125\.0 %.*394\.5 %/);
    assert.match(output, /No new email this run/);
    assert.doesNotMatch(output, / this run /);
  });

  it('refuses a database that holds users outside the demo tree', async () => {
    const client = new pg.Client({ connectionString: env.XFC_DATABASE_URL });
    await client.connect();
    const disk = await client.query<{ id: number }>(
      `INSERT INTO xfc_control_cachedisk (mountpoint, size_bytes, allocated_bytes, used_bytes)
       VALUES ('/work/xfc/vol9', 0, 0, 0) RETURNING id`,
    );
    await client.query(
      `INSERT INTO xfc_control_user (name, email, notify, quota_size, quota_used, hard_limit_size, total_used,
                                     cache_path, cache_disk_id)
       VALUES ('realuser', '', false, 1, 0, 1, 0, 'user_cache/realuser', $1)`,
      [disk.rows[0]?.id],
    );
    await client.end();
    const demo = spawnXfc(['demo'], env);
    assert.equal(await demo.exited, 1);
    assert.match(demo.output(), /holds users outside the demo tree \(realuser on \/work\/xfc\/vol9\)/);
  });
});
