import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { createNotifyActivities } from '../../activities/notify.js';
import { TiB } from '../../lib/common/units.js';
import { loadConfig } from '../../lib/config/env.js';
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
import { startTestTemporal, type TestTemporal } from '../support/temporal.js';
import type { notifyAboutScan } from './notify-workflow.js';

/**
 * The activities under a real Temporal worker and the recommended retry options: with the SMTP relay down, the
 * send fails and Temporal retries it; once the relay is back exactly one email arrives, and running the whole
 * thing again for the same scan sends nothing more.
 */
describe('notification activities under Temporal', () => {
  let t: MigratedDatabase;
  let smtp: TestSmtpServer;
  let temporal: TestTemporal;
  let connection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `notify-test-${randomUUID()}`;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    [t, smtp, temporal] = await Promise.all([migratedDatabase(), startTestSmtp(), startTestTemporal()]);
    const disk = await insertDisk(t.db.url, '/work/xfc/vol5');
    await insertDjangoUsers(t.db.url, disk, ['alice']);
    const config = loadConfig({ XFC_SMTP_URL: smtp.url, XFC_MAIL_FROM: 'JASMIN XFC <xfc@jasmin.example>' });
    connection = await NativeConnection.connect({ address: temporal.address });
    worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: new URL('./notify-workflow.ts', import.meta.url).pathname,
      activities: createNotifyActivities({ pool: t.pool, config, transport: createMailer(config.mail) }),
    });
    running = worker.run();
    client = new Client({
      connection: await Connection.connect({ address: temporal.address }),
      namespace: temporal.namespace,
    });
  });
  after(async () => {
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    await smtp.stop();
    await temporal.stop();
    await t.close();
  });

  const attempts = (scanId: string): Promise<number> =>
    t.pool
      .maybeOneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT attempts AS n FROM xfc_notification WHERE scan_id = ${scanId}`,
      )
      .then((n) => n ?? 0);

  it('SMTP down then up: retried until accepted, exactly one email, and a rerun sends nothing', async () => {
    const message = completedScan({
      username: 'alice',
      now: new Date().toISOString(),
      bytes: 12n * TiB,
      temporalByteDays: 310n * TiB,
      workDir: '/work/xfc/vol5/user_cache/alice',
    });
    await recordOwnScan(t.pool, message);
    await smtp.stop();
    const handle = await client.workflow.start<typeof notifyAboutScan>('notifyAboutScan', {
      taskQueue,
      workflowId: `notify-${message.scanId}`,
      args: [message.scanId],
    });
    const deadline = Date.now() + 30_000;
    while ((await attempts(message.scanId)) < 2) {
      assert.ok(Date.now() < deadline, 'the send was attempted and retried while SMTP was down');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(smtp.messages.length, 0);
    await smtp.start();

    const result = await handle.result();
    assert.equal(result.decision.kind, 'over');
    assert.deepEqual(result.sent, { status: 'sent' });
    await smtp.waitForMessages(1);
    assert.match(smtp.messages[0]?.raw ?? '', new RegExp(`Message-ID: <xfc-${message.scanId}@jasmin\\.example>`));

    // The same scan again (a replayed apply): same decision, nothing new sent.
    const rerun = await client.workflow.execute<typeof notifyAboutScan>('notifyAboutScan', {
      taskQueue,
      workflowId: `notify-${message.scanId}-again`,
      args: [message.scanId],
    });
    assert.equal(rerun.decision.outboxId, result.decision.outboxId);
    assert.deepEqual(rerun.sent, { status: 'already-sent' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(smtp.messages.length, 1);
  });
});
