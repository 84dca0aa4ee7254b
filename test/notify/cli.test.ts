import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { dbId } from '../../db/ids.js';
import { createNotifyActivities } from '../../activities/notify.js';
import { formatHistory, previewNotification } from '../../cli/commands/notify.js';
import { TiB } from '../../lib/common/units.js';
import { loadConfig } from '../../lib/config/env.js';
import { notificationHistory } from '../../db/notifications.js';
import { createMailer } from '../../lib/notify/mailer.js';
import {
  completedScan,
  insertDisk,
  insertDjangoUsers,
  migratedDatabase,
  type MigratedDatabase,
  recordOwnScan,
} from '../db/helpers.js';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp.js';

const run = promisify(execFile);
/** The notify command as the `xfc` binary runs it (see notify-cli.ts). */
const cli = ['--import', 'tsx', new URL('./notify-cli.ts', import.meta.url).pathname];
const from = 'JASMIN XFC <xfc@jasmin.example>';

describe('xfc notify preview / history', () => {
  let t: MigratedDatabase;
  let smtp: TestSmtpServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    t = await migratedDatabase();
    smtp = await startTestSmtp();
    const disk = await insertDisk(t.db.url, '/work/xfc/vol5');
    await insertDjangoUsers(t.db.url, disk, ['alice', 'zed']);
    env = { ...process.env, XFC_DATABASE_URL: t.db.url, XFC_MAIL_FROM: from, XFC_SMTP_URL: smtp.url };
    const message = completedScan({
      username: 'alice',
      now: '2026-11-01T06:00:00.000Z',
      bytes: 12n * TiB,
      temporalByteDays: 312n * TiB,
      workDir: '/work/xfc/vol5/user_cache/alice',
    });
    await recordOwnScan(t.pool, message);
  });
  after(async () => {
    await smtp.stop();
    await t.close();
  });

  const outboxRows = (): Promise<number> =>
    t.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM xfc_notification`);

  it('preview shows the email due now and writes nothing', async () => {
    const config = loadConfig(env);
    const preview = await previewNotification(t.pool, config, 'alice', new Date('2026-11-01T07:00:00Z'));
    assert.deepEqual(preview.due, { kind: 'over', suppressed: false, reason: 'level-rose' });
    assert.equal(preview.email.subject, '[XFC] Your transfer cache is over its temporal quota');
    assert.match(preview.email.text, /104\.0 %/);

    const { stdout } = await run(process.execPath, [...cli, 'notify', 'preview', '--user', 'alice'], { env });
    assert.match(stdout, /^Deciding now \(scan scan-alice-\d+\) would send an "over" email \(level-rose: /m);
    assert.match(stdout, /^Subject: \[XFC\] Your transfer cache is over its temporal quota$/m);
    assert.match(stdout, /^Message-ID: <xfc-scan-alice-\d+@jasmin\.example>$/m);
    assert.match(stdout, /No files will be deleted automatically\./);
    const html = await run(process.execPath, [...cli, 'notify', 'preview', '--user', 'alice', '--html'], { env });
    assert.match(html.stdout, /^<!DOCTYPE html>/);
    assert.match(html.stderr, /would send/);

    // The user as a positional, as in `xfc users show alice`; --json for scripts, with ISO 8601 times.
    const positional = await run(process.execPath, [...cli, 'notify', 'preview', 'alice'], { env });
    assert.equal(positional.stdout, stdout);
    const json = JSON.parse(
      (await run(process.execPath, [...cli, 'notify', 'preview', 'alice', '--json'], { env })).stdout,
    ) as { username: string; due: { kind: string }; lastEmailAt: string | null; email: { subject: string } };
    assert.deepEqual(
      [json.username, json.due.kind, json.lastEmailAt, json.email.subject],
      ['alice', 'over', null, '[XFC] Your transfer cache is over its temporal quota'],
    );

    // A reader that goes away (`| head -1`) ends the real xfc quietly: `true` exits before xfc writes anything.
    const piped = await run(
      'bash',
      [
        '-c',
        `${process.execPath} --import tsx cli/main.ts notify preview alice --html 2>/dev/null | true; echo "status \${PIPESTATUS[0]}"`,
      ],
      { env },
    );
    assert.deepEqual([piped.stdout.trim(), piped.stderr], ['status 0', '']);
    assert.equal(await outboxRows(), 0, 'a preview writes no outbox row');
    assert.equal(smtp.messages.length, 0, 'and sends nothing');
  });

  it('after the email went out, preview says none is due and shows the reminder for reference', async () => {
    const config = loadConfig(env);
    const activities = createNotifyActivities({
      pool: t.pool,
      config,
      transport: createMailer(config.mail),
      now: () => new Date('2026-11-01T07:00:00Z'),
    });
    const scanId = await t.pool.oneFirst(
      sql.type(z.object({ id: z.string() }))`SELECT scan_id AS id FROM xfc_scan WHERE username = 'alice'`,
    );
    const decision = await activities.decideNotification({ scanId });
    await activities.sendNotification({ outboxId: decision.outboxId! });
    const preview = await previewNotification(t.pool, config, 'alice', new Date('2026-11-02T07:00:00Z'));
    assert.deepEqual(preview.due, { kind: null, suppressed: false, reason: 'reminder-not-due' });
    assert.equal(preview.kind, 'reminder');
    assert.match(preview.email.subject, /Reminder/);
  });

  it('history lists the rows as a table and as JSON', async () => {
    const userId = await t.pool.oneFirst(
      sql.type(z.object({ id: dbId }))`SELECT id FROM xfc_control_user WHERE name = 'alice'`,
    );
    const table = formatHistory(await notificationHistory(t.pool, userId));
    assert.match(table, /^Decided +Kind +Status +Reason +Recipient +Sent +Tries/);
    assert.match(table, /2026-11-01 07:00 UTC +over +sent +level-rose +alice@example\.org +2026-11-01 07:00 UTC +1/);

    const { stdout } = await run(process.execPath, [...cli, 'notify', 'history', '--user', 'alice', '--json'], { env });
    const rows = JSON.parse(stdout) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.status, 'sent');
    assert.equal(rows[0]?.kind, 'over');
    assert.equal(rows[0]?.recipient, 'alice@example.org');
    assert.match(String(rows[0]?.smtpResponse), /^250 /);
    const empty = await run(process.execPath, [...cli, 'notify', 'history', '--user', 'zed'], { env });
    assert.match(empty.stdout, /No notifications yet\./);
  });

  it('says what is wrong for an unknown user, a user never scanned, and a bad name', async () => {
    const fail = async (args: string[]): Promise<{ code: number; stderr: string }> => {
      try {
        await run(process.execPath, [...cli, 'notify', ...args], { env });
        return { code: 0, stderr: '' };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    };
    assert.deepEqual(await fail(['preview', '--user', 'nobody']), {
      code: 1,
      stderr: 'xfc: No XFC user "nobody" in the database.\n',
    });
    const never = await fail(['preview', '--user', 'zed']);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /zed has no completed scan yet/);
    const bad = await fail(['history', '--user', 'Bad Name']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a valid username/);
  });
});
