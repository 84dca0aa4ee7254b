import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { applyWorkflowId } from '../../../lib/temporal/names.js';
import type { ApplyScanResult } from '../../../lib/temporal/contracts.js';
import { putOverQuota, registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import { notificationRows, pendingActivities, scanRows, until } from '../harness/observe.js';
import { sleep } from '../harness/processes.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';

export interface SmtpDownMeasured {
  outageMs: number;
  /** Send attempts that failed while the server was down. */
  failedAttempts: number;
  /** From the server listening again to the email arriving (the retry backoff decides it). */
  deliveredAfterUpMs: number;
  emails: number;
  outboxStatus: string | undefined;
  notification: ApplyScanResult['notification'] | undefined;
}

/**
 * 6. The SMTP server is down when an over-quota user's email is due, and stays down for `smtpOutageMs` (2 minutes
 * in `npm run faults` by default, a few seconds in CI). The send activity keeps failing and retrying with backoff
 * (10 s doubling to 10 min); once the server is back the next attempt delivers exactly one email, and the outbox
 * row is marked sent.
 */
export const smtpDown: Scenario<SmtpDownMeasured> = {
  id: 6,
  name: 'SMTP server down for a while',
  async run({ quick, smtpOutageMs, note = () => undefined }) {
    const outageMs = smtpOutageMs ?? (quick ? 5_000 : 120_000);
    const stack = await startFaultStack({ smtp: true });
    const smtp = stack.smtp!;
    const checks = new Checks();
    try {
      const username = 'hoarder';
      const address = `${username}@example.org`;
      writeSmallTrees(stack.root, 'vol1', [username]);
      await registerUsers(stack.pool, stack.root, [username]);
      await putOverQuota(stack.pool, [username]);
      await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);

      await smtp.stop();
      const downAt = Date.now();
      note(`SMTP down for ${seconds(outageMs)}`);
      await requestScanViaQueue(stack.config, username);
      const [scan] = await until('the scan to be recorded', async () => {
        const rows = await scanRows(stack.pool, username);
        return rows.length > 0 ? rows : undefined;
      });
      const apply = stack.client.workflow.getHandle(applyWorkflowId(scan!.scanId));
      await until(
        'a send attempt to fail',
        async () =>
          (await pendingActivities(apply)).some((a) => a.type === 'sendNotification' && a.lastFailure !== undefined),
        60_000,
      );
      await sleep(Math.max(0, outageMs - (Date.now() - downAt)));
      const failedAttempts = (await notificationRows(stack.pool)).find((n) => n.scanId === scan!.scanId)?.attempts ?? 0;
      await smtp.start();
      const upAt = Date.now();
      note(`SMTP up after ${failedAttempts} failed attempt(s); waiting for the next retry`);

      await smtp.waitForMessages(1, 11 * 60_000);
      const deliveredAfterUpMs = Date.now() - upAt;
      const applied = (await apply.result()) as ApplyScanResult;
      await sleep(2_000); // nothing more may arrive
      const emails = smtp.messages.filter((m) => m.envelope.to.includes(address)).length;
      const outbox = (await notificationRows(stack.pool)).filter((n) => n.scanId === scan!.scanId);
      checks.expect(
        'sending failed while the server was down',
        failedAttempts >= 1,
        `${failedAttempts} failed attempt(s)`,
      );
      checks.equal('exactly one email once it was back', emails, 1);
      checks.equal('one outbox row', outbox.length, 1);
      checks.equal('the outbox row is marked sent', outbox[0]?.status, 'sent');
      checks.equal('the application reports it sent', applied.notification, 'sent');
      checks.equal('no other email', smtp.messages.length, 1);
      return {
        summary:
          `SMTP down ${seconds(upAt - downAt)}; ${failedAttempts} failed send attempt(s); ` +
          `delivered ${seconds(deliveredAfterUpMs)} after it was back (next retry of the backoff); ${emails} email, ` +
          `outbox row ${outbox[0]?.status ?? 'missing'}`,
        checks: checks.list,
        measured: {
          outageMs: upAt - downAt,
          failedAttempts,
          deliveredAfterUpMs,
          emails,
          outboxStatus: outbox[0]?.status,
          notification: applied.notification,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
