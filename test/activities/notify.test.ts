import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { dbId } from '../../db/ids.js';
import { createNotifyActivities, type NotifyActivities } from '../../activities/notify.js';
import { TiB } from '../../lib/common/units.js';
import { loadConfig } from '../../lib/config/env.js';
import { findOutbox, notificationHistory } from '../../db/notifications.js';
import type { ScanCompleted } from '../../lib/messages/v1/index.js';
import { createMailer } from '../../lib/notify/mailer.js';
import {
  completedScan,
  insertDisk,
  insertDjangoUsers,
  migratedDatabase,
  type MigratedDatabase,
  recordOwnScan,
  recordOwnFailure,
} from '../db/helpers.js';
import { parseMail, startTestSmtp, type TestSmtpServer } from '../support/smtp.js';
import { errorMessage } from '../../lib/common/errors.js';

/**
 * The notification activities against real Postgres (migrations 0001-0003) and a real SMTP server in the test
 * process. Scans are recorded with the database layer's own recordScanCompleted, as the applyScan workflow does.
 */

const day = 86_400_000;
const start = new Date('2026-11-01T08:00:00Z');
const from = 'JASMIN XFC <xfc-noreply@jasmin.example>';

describe('notification activities', () => {
  let t: MigratedDatabase;
  let smtp: TestSmtpServer;
  let clock = start;
  let activities: NotifyActivities;
  let diskId: number;
  let beforeAccept: (() => Promise<void>) | undefined;

  before(async () => {
    t = await migratedDatabase();
    smtp = await startTestSmtp({
      refuse: { 'gone@example.org': { code: 550, message: 'No such user here' } },
      beforeAccept: () => beforeAccept?.() ?? Promise.resolve(),
    });
    diskId = await insertDisk(t.db.url, '/work/xfc/vol5');
    const config = loadConfig({
      XFC_DATABASE_URL: t.db.url,
      XFC_SMTP_URL: smtp.url,
      XFC_MAIL_FROM: from,
      XFC_MAIL_CONTACT: 'the JASMIN helpdesk, support@jasmin.ac.uk',
    });
    activities = createNotifyActivities({
      pool: t.pool,
      config,
      transport: createMailer(config.mail),
      now: () => clock,
    });
  });
  after(async () => {
    await smtp.stop();
    await t.close();
  });

  /** A user with the defaults (300 TiB·day, 40 TiB); `update` then changes their row. */
  async function user(name: string, update?: Record<string, string | boolean>): Promise<number> {
    const [id] = await insertDjangoUsers(t.db.url, diskId, [name]);
    for (const [column, value] of Object.entries(update ?? {})) {
      await t.pool.query(
        sql.unsafe`UPDATE xfc_control_user SET ${sql.identifier([column])} = ${value} WHERE id = ${id!}`,
      );
    }
    return id!;
  }

  /** Records a scan of `name` at `clock`, using `temporalPercent` of the temporal quota; returns its id. */
  async function scan(
    name: string,
    temporalPercent: number,
    extra: Partial<ScanCompleted> & { hardPercent?: number } = {},
  ): Promise<string> {
    const { hardPercent = 10, ...rest } = extra;
    const message = completedScan({
      username: 'placeholder',
      now: clock.toISOString(),
      bytes: (40n * TiB * BigInt(hardPercent * 100)) / 10_000n,
      temporalByteDays: (300n * TiB * BigInt(temporalPercent * 100)) / 10_000n,
      workDir: `/work/xfc/vol5/user_cache/${name}`,
      ...rest,
    });
    // The name is set after validation: a hostile name in the Django table must not get further than this.
    const outcome = await recordOwnScan(t.pool, { ...message, username: name });
    assert.equal(outcome.usageUpdated, true, `scan of ${name} applied`);
    return message.scanId;
  }

  const outboxCount = (scanId: string): Promise<number> =>
    t.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM xfc_notification WHERE scan_id = ${scanId}`);

  const state = (userId: number) =>
    t.pool.one(sql.type(
      z.object({
        notifyLevel: z.string(),
        notifiedLevel: z.string(),
        lastNotifiedAt: z.date().nullable(),
        lastNotifiedKind: z.string().nullable(),
        skipped: z.string().nullable(),
      }),
    )`
      SELECT notify_level AS "notifyLevel", notified_level AS "notifiedLevel", last_notified_at AS "lastNotifiedAt",
             last_notified_kind AS "lastNotifiedKind", last_notify_skipped_reason AS skipped
      FROM xfc_user_state WHERE user_id = ${userId}`);

  it('decides, then sends one email with the right headers, recipients and content', async () => {
    clock = start;
    const aliceId = await user('alice');
    const scanId = await scan('alice', 104);
    const decision = await activities.decideNotification({ scanId });
    assert.equal(decision.level, 'over');
    assert.equal(decision.kind, 'over');
    assert.equal(decision.reason, 'level-rose');
    assert.ok(decision.outboxId);

    const before = smtp.messages.length;
    assert.deepEqual(await activities.sendNotification({ outboxId: decision.outboxId }), { status: 'sent' });
    const message = (await smtp.waitForMessages(before + 1))[before];
    assert.ok(message);
    assert.deepEqual(message.envelope, { from: 'xfc-noreply@jasmin.example', to: ['alice@example.org'] });
    const mail = parseMail(message.raw);
    assert.equal(mail.header('from'), from);
    assert.equal(mail.header('to'), 'alice@example.org');
    assert.equal(mail.header('subject'), '[XFC] Your transfer cache is over its temporal quota');
    assert.equal(mail.header('message-id'), `<xfc-${scanId}@jasmin.example>`);
    assert.ok(!Number.isNaN(Date.parse(mail.header('date') ?? '')));
    assert.equal(mail.header('auto-submitted'), 'auto-generated');
    assert.deepEqual(
      mail.parts.map((part) => part.contentType.split(';')[0]),
      ['text/plain', 'text/html'],
    );
    const text = mail.parts[0]?.body ?? '';
    assert.match(text, /Hello alice,/);
    assert.match(text, /No files will be deleted automatically\./);
    assert.match(text, /over its\s+temporal quota, at 104\.0 %/);
    assert.match(text, /pan_du -sa \/work\/xfc\/vol5\/user_cache\/alice/);
    assert.match(text, /measured on 2026-11-01 08:00 UTC/);
    assert.match(text, /support@jasmin\.ac\.uk/);

    // What was decided is what was sent; the row says when and what the server answered.
    const row = await findOutbox(t.pool, BigInt(decision.outboxId));
    assert.equal(row?.status, 'sent');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.textBody.replace(/\n/g, '\r\n'), text.replace(/\r?\n/g, '\r\n'));
    assert.match(row?.smtpResponse ?? '', /^250 OK: queued as test-\d+/);
    assert.deepEqual(row?.sentAt, start);
    const after = await state(aliceId);
    assert.equal(after.notifyLevel, 'over');
    assert.equal(after.notifiedLevel, 'over');
    assert.equal(after.lastNotifiedKind, 'over');
    assert.deepEqual(after.lastNotifiedAt, start);

    // Sending the same row again sends nothing.
    assert.deepEqual(await activities.sendNotification({ outboxId: decision.outboxId }), { status: 'already-sent' });
    assert.equal(smtp.messages.length, before + 1);
  });

  it('a repeated or concurrent decision for one scan writes one outbox row and returns it each time', async () => {
    clock = start;
    await user('bea');
    const scanId = await scan('bea', 95);
    const decisions = await Promise.all(Array.from({ length: 6 }, () => activities.decideNotification({ scanId })));
    const ids = new Set(decisions.map((d) => d.outboxId));
    assert.equal(ids.size, 1);
    assert.ok(decisions.every((d) => d.kind === 'warning' && d.reason === 'level-rose'));
    assert.equal(await outboxCount(scanId), 1);
    const again = await activities.decideNotification({ scanId });
    assert.deepEqual(again, decisions[0]);
    assert.equal(await outboxCount(scanId), 1);
  });

  it('a rescan at the same level sends nothing; the reminder comes after 7 days', async () => {
    clock = start;
    await user('cara');
    const first = await activities.decideNotification({ scanId: await scan('cara', 101) });
    assert.equal(first.kind, 'over');
    await activities.sendNotification({ outboxId: first.outboxId! });
    const sent = smtp.messages.length;

    clock = new Date(start.getTime() + day);
    const sameLevel = await activities.decideNotification({ scanId: await scan('cara', 103) });
    assert.deepEqual(sameLevel, { outboxId: null, level: 'over', kind: null, reason: 'reminder-not-due' });
    clock = new Date(start.getTime() + 7 * day);
    const reminder = await activities.decideNotification({ scanId: await scan('cara', 110) });
    assert.equal(reminder.kind, 'reminder');
    await activities.sendNotification({ outboxId: reminder.outboxId! });
    const [message] = (await smtp.waitForMessages(sent + 1)).slice(sent);
    assert.equal(
      parseMail(message?.raw ?? '').header('subject'),
      '[XFC] Reminder: your transfer cache is still over its temporal quota',
    );

    // Back under: one all-clear, then quiet.
    clock = new Date(start.getTime() + 9 * day);
    const clear = await activities.decideNotification({ scanId: await scan('cara', 20) });
    assert.equal(clear.kind, 'all-clear');
    clock = new Date(start.getTime() + 10 * day);
    const quiet = await activities.decideNotification({ scanId: await scan('cara', 20) });
    assert.equal(quiet.kind, null);
    assert.equal(quiet.reason, 'unchanged');
  });

  it('SMTP down, then up: the send fails and is retried, and exactly one email arrives', async () => {
    clock = start;
    await user('dave');
    const decision = await activities.decideNotification({ scanId: await scan('dave', 100) });
    const outboxId = decision.outboxId!;
    const before = smtp.messages.length;

    await smtp.stop();
    try {
      await assert.rejects(activities.sendNotification({ outboxId }), /ECONNREFUSED|connect/i);
      await assert.rejects(activities.sendNotification({ outboxId }), /ECONNREFUSED|connect/i);
    } finally {
      await smtp.start();
    }
    const failed = await findOutbox(t.pool, BigInt(outboxId));
    assert.equal(failed?.status, 'pending');
    assert.equal(failed?.attempts, 2);
    assert.match(failed?.lastError ?? '', /ECONNREFUSED|connect/i);
    assert.equal(failed?.leaseUntil, null, 'a failed attempt releases the row at once');

    assert.deepEqual(await activities.sendNotification({ outboxId }), { status: 'sent' });
    assert.deepEqual(await activities.sendNotification({ outboxId }), { status: 'already-sent' });
    await smtp.waitForMessages(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(smtp.messages.length, before + 1);
    const sent = await findOutbox(t.pool, BigInt(outboxId));
    assert.equal(sent?.status, 'sent');
    assert.equal(sent?.attempts, 3);
    assert.equal(sent?.lastError, null);
  });

  it('concurrent sends of one row deliver it once', async () => {
    clock = start;
    await user('erin');
    const { outboxId } = await activities.decideNotification({ scanId: await scan('erin', 120) });
    const before = smtp.messages.length;
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => activities.sendNotification({ outboxId: outboxId! })),
    );
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : errorMessage(r.reason)));
    assert.equal(statuses.filter((s) => s === 'sent').length, 1, statuses.join(' | '));
    assert.ok(
      statuses.every((s) => s === 'sent' || s === 'already-sent' || /being sent by another attempt/.test(s)),
      statuses.join(' | '),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(smtp.messages.length, before + 1);
  });

  it('PostgreSQL gone the moment SMTP accepted: no second email, and the workflow records the send later', async () => {
    clock = start;
    await user('lena');
    const { outboxId } = await activities.decideNotification({ scanId: await scan('lena', 130) });
    const before = smtp.messages.length;
    // The database goes away after the message arrived and before the server's 250 reply, as when PostgreSQL
    // restarts at that moment: the email is out, and the row cannot be marked.
    beforeAccept = () => t.db.setReachable(false);
    let result;
    try {
      result = await activities.sendNotification({ outboxId: outboxId! });
    } finally {
      beforeAccept = undefined;
      await t.db.setReachable(true);
    }
    assert.equal(result.status, 'sent');
    assert.ok(result.unrecorded, 'the activity hands back what the server said instead of failing');
    assert.match(result.unrecorded.smtpResponse, /^250 /);
    assert.equal((await findOutbox(t.pool, BigInt(outboxId!)))?.status, 'pending');

    await activities.recordNotificationSent({ outboxId: outboxId!, ...result.unrecorded });
    await activities.recordNotificationSent({ outboxId: outboxId!, ...result.unrecorded });
    const row = await findOutbox(t.pool, BigInt(outboxId!));
    assert.equal(row?.status, 'sent');
    assert.equal(row?.sentAt?.toISOString(), result.unrecorded.sentAt);
    assert.deepEqual(await activities.sendNotification({ outboxId: outboxId! }), { status: 'already-sent' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(smtp.messages.length, before + 1);
  });

  it('notify=false, no address or an unusable address: suppressed with the reason, never sent', async () => {
    clock = start;
    const cases: Array<[string, Record<string, string | boolean>, string]> = [
      ['fred', { notify: false }, 'notify-off'],
      ['gina', { email: '' }, 'no-address'],
      ['hugo', { email: 'hugo@example.org\r\nBcc: evil@example.org' }, 'invalid-address'],
    ];
    const before = smtp.messages.length;
    for (const [name, update, reason] of cases) {
      const id = await user(name, update);
      const decision = await activities.decideNotification({ scanId: await scan(name, 100) });
      assert.equal(decision.kind, 'over', name);
      assert.equal(decision.reason, reason);
      assert.ok(decision.outboxId);
      const row = await findOutbox(t.pool, BigInt(decision.outboxId));
      assert.equal(row?.status, 'suppressed');
      assert.equal(row?.suppressedReason, reason);
      assert.equal(row?.reason, 'level-rose');
      assert.ok(row?.subject.startsWith('[XFC]'), 'the email is rendered and kept, so it can be read later');
      assert.deepEqual(await activities.sendNotification({ outboxId: decision.outboxId }), { status: 'suppressed' });
      assert.equal((await state(id)).skipped, reason, 'recorded for `xfc users show`');
    }
    assert.equal(smtp.messages.length, before);
  });

  it('a failed scan sends nothing and changes no notification state', async () => {
    clock = start;
    const id = await user('ivan');
    const first = await activities.decideNotification({ scanId: await scan('ivan', 100) });
    assert.equal(first.kind, 'over');
    const before = await state(id);
    await recordOwnFailure(t.pool, {
      version: 1,
      scanId: 'scan-ivan-failed-1',
      requestId: 'request-ivan-failed-1',
      username: 'ivan',
      reason: 'work-dir-missing',
      message: 'gone',
    });
    clock = new Date(start.getTime() + 30 * day);
    const failed = await activities.decideNotification({ scanId: 'scan-ivan-failed-1' });
    assert.deepEqual(failed, { outboxId: null, level: 'over', kind: null, reason: 'scan-failed' });
    assert.deepEqual(await state(id), before);
    await assert.rejects(activities.decideNotification({ scanId: 'no-such-scan' }), /No scan no-such-scan/);
  });

  it('a permanent refusal by the server is recorded as rejected and not retried', async () => {
    clock = start;
    await user('jack', { email: 'gone@example.org' });
    const { outboxId } = await activities.decideNotification({ scanId: await scan('jack', 100) });
    const before = smtp.messages.length;
    assert.deepEqual(await activities.sendNotification({ outboxId: outboxId! }), { status: 'rejected' });
    assert.deepEqual(await activities.sendNotification({ outboxId: outboxId! }), { status: 'rejected' });
    const row = await findOutbox(t.pool, BigInt(outboxId!));
    assert.equal(row?.status, 'rejected');
    assert.equal(row?.attempts, 1);
    assert.match(row?.lastError ?? '', /550/);
    assert.equal(smtp.messages.length, before);
  });

  it('a username or directory name with CRLF or HTML cannot inject headers or markup', async () => {
    clock = start;
    const hostile = 'kim\r\nBcc: evil@example.org\r\nX-Injected: yes <script>alert(1)</script>';
    await user(hostile, { email: 'kim@example.org' });
    const scanId = await scan(hostile, 100, {
      topDirectories: {
        byTemporal: [
          { path: '<img src=x onerror=alert(1)>', files: 1, bytes: '1', temporalByteDays: '2' },
          { path: 'data\r\nSubject: fake\r\nBcc: evil2@example.org', files: 1, bytes: '1', temporalByteDays: '1' },
        ],
        byBytes: [],
      },
    });
    const { outboxId } = await activities.decideNotification({ scanId });
    const before = smtp.messages.length;
    assert.deepEqual(await activities.sendNotification({ outboxId: outboxId! }), { status: 'sent' });
    const [message] = (await smtp.waitForMessages(before + 1)).slice(before);
    assert.ok(message);
    assert.deepEqual(message.envelope.to, ['kim@example.org']);
    const headerBlock = message.raw.slice(0, message.raw.indexOf('\r\n\r\n'));
    assert.doesNotMatch(headerBlock, /^(Bcc|X-Injected):/im);
    assert.doesNotMatch(headerBlock, /evil|script|fake/i);
    const mail = parseMail(message.raw);
    assert.equal(mail.headers.get('subject')?.length, 1);
    assert.equal(mail.header('subject'), '[XFC] Your transfer cache is over its temporal quota');
    const [text, html] = [mail.parts[0]?.body ?? '', mail.parts[1]?.body ?? ''];
    assert.doesNotMatch(text, /^(Bcc|Subject|X-Injected):/m, 'no user-controlled line starts like a header');
    assert.match(text, /Hello kim\\x0d\\x0aBcc: evil@example\.org/);
    assert.doesNotMatch(html, /<script|<img/i);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&lt;script&gt;/);
  });

  it('history lists a user’s rows, newest first', async () => {
    const userId = await t.pool.oneFirst(
      sql.type(z.object({ id: dbId }))`SELECT id FROM xfc_control_user WHERE name = 'cara'`,
    );
    const rows = await notificationHistory(t.pool, userId);
    assert.deepEqual(
      rows.map((row) => [row.kind, row.status]),
      [
        ['all-clear', 'pending'],
        ['reminder', 'sent'],
        ['over', 'sent'],
      ],
    );
  });
});
