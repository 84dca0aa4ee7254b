import type { CommandModule } from 'yargs';
import { UsageError, UserError } from '../../lib/common/errors.js';
import { loadConfig, type XfcConfig } from '../../lib/config/env.js';
import {
  findUserByName,
  latestMeasuredScan,
  notificationHistory,
  readNotifyState,
  type OutboxRow,
} from '../../db/notifications.js';
import { openPool, type DatabasePool } from '../../db/pool.js';
import { messageIdFor } from '../../lib/notify/message.js';
import {
  emailContent,
  initialStoredState,
  kindForLevel,
  planNotification,
  planSettings,
} from '../../lib/notify/outbox.js';
import { decisionReasons, isPlainAddress, type DecisionReason, type EmailKind } from '../../lib/notify/policy.js';
import { renderEmail, type RenderedEmail } from '../../lib/notify/render.js';
import { formatTime, isoTime } from '../../lib/common/time.js';
import { printJson } from '../output.js';
import { formatTable } from '../../lib/common/table.js';
import { requiredUser, userArgument } from '../user-argument.js';

/**
 * `xfc notify preview --user NAME [--html]`: what the user would receive now, from their latest scan, without
 * sending or writing anything. `xfc notify history --user NAME [--json]`: the outbox rows of that user.
 */

export interface NotificationPreview {
  username: string;
  recipient: string;
  scanId: string;
  /** What deciding now would do: the email due (null for none), whether it would be suppressed, and why. */
  due: { kind: EmailKind | null; suppressed: boolean; reason: DecisionReason };
  level: string;
  notifiedLevel: string;
  lastEmailAt: Date | null;
  /** The email shown: the one due, or the one for the user's level when none is due. */
  kind: EmailKind;
  from: string;
  messageId: string;
  email: RenderedEmail;
}

/** Runs the decision for the user's latest scan at `now`, read-only, and renders the email. */
export async function previewNotification(
  pool: DatabasePool,
  config: XfcConfig,
  username: string,
  now: Date,
): Promise<NotificationPreview> {
  const user = await findUserByName(pool, username);
  if (!user) throw new UserError(`No XFC user "${username}" in the database.`);
  const scan = await latestMeasuredScan(pool, user.userId);
  if (!scan) {
    throw new UserError(`${username} has no completed scan yet, so there is nothing to write about. Scan them first.`);
  }
  const stored = (await readNotifyState(pool, user.userId)) ?? initialStoredState;
  // Preview "now": as if this scan had not been decided yet, so the answer is what deciding it today would do.
  const state =
    stored.scanId === scan.scanId || (stored.lastScanAt && scan.scanNow && stored.lastScanAt >= scan.scanNow)
      ? { ...stored, lastScanAt: null }
      : stored;
  const settings = planSettings(config);
  const plan = planNotification({ scan, user, state, settings, now });
  const kind = plan.decision.email ?? kindForLevel(plan.decision.level, plan.decision.notifiedLevel);
  return {
    username: user.username,
    recipient: user.email,
    scanId: scan.scanId,
    due: { kind: plan.decision.email, suppressed: plan.decision.suppressed, reason: plan.decision.reason },
    level: plan.decision.level,
    notifiedLevel: stored.notifiedLevel,
    lastEmailAt: stored.lastEmailAt,
    kind,
    from: config.mail.from,
    messageId: messageIdFor(scan.scanId, config.mail.from),
    email: plan.outbox
      ? { subject: plan.outbox.subject, text: plan.outbox.textBody, html: plan.outbox.htmlBody }
      : renderEmail(emailContent(kind, scan, user, settings)),
  };
}

/** The lines above the email: who, what level, and what deciding now would do. */
export function describePreview(preview: NotificationPreview): string {
  const { due } = preview;
  const reason = `${due.reason}: ${decisionReasons[due.reason]}`;
  const decision =
    due.kind === null
      ? `no email (${reason})`
      : due.suppressed
        ? `${article(due.kind)} "${due.kind}" email, but it would be suppressed (${reason})`
        : `${article(due.kind)} "${due.kind}" email (${due.reason}: ${decisionReasons[due.reason]})`;
  const address = preview.recipient.trim() === '' ? 'no address' : JSON.stringify(preview.recipient);
  return [
    `User ${preview.username} (${address}): level ${preview.level}, last told of ${preview.notifiedLevel}` +
      `, last email ${preview.lastEmailAt ? formatTime(preview.lastEmailAt) : 'never'}.`,
    `Deciding now (scan ${preview.scanId}) would send ${decision}.`,
    due.kind === preview.kind && !due.suppressed
      ? `The "${preview.kind}" email, as it would be sent (nothing is sent or written):`
      : `For reference, the "${preview.kind}" email for this level (nothing is sent or written):`,
  ].join('\n');
}

/** The preview as a message: headers as they would go out, then the text part. */
export function formatPreviewMessage(preview: NotificationPreview): string {
  const to = isPlainAddress(preview.recipient.trim()) ? preview.recipient.trim() : '(no usable address)';
  return [
    `From: ${preview.from}`,
    `To: ${to}`,
    `Subject: ${preview.email.subject}`,
    `Message-ID: ${preview.messageId}`,
    '',
    preview.email.text,
  ].join('\n');
}

/** One outbox row for `--json`: times as ISO strings, bodies left out. */
export function historyEntry(row: OutboxRow): Record<string, unknown> {
  return {
    id: row.id.toString(),
    createdAt: isoTime(row.createdAt),
    scanId: row.scanId,
    kind: row.kind,
    level: row.level,
    status: row.status,
    reason: row.suppressedReason ?? row.reason,
    recipient: row.recipient,
    subject: row.subject,
    messageId: row.messageId,
    attempts: row.attempts,
    sentAt: row.sentAt ? isoTime(row.sentAt) : null,
    smtpResponse: row.smtpResponse,
    lastError: row.lastError,
  };
}

export function formatHistory(rows: OutboxRow[]): string {
  if (rows.length === 0) return 'No notifications yet.';
  return formatTable(
    ['Decided', 'Kind', 'Status', 'Reason', 'Recipient', 'Sent', 'Tries', 'Last error'],
    rows.map((row) => [
      formatTime(row.createdAt),
      row.kind,
      row.status,
      row.suppressedReason ?? row.reason,
      row.recipient ?? '—',
      row.sentAt ? formatTime(row.sentAt) : '—',
      String(row.attempts),
      row.lastError ? truncate(row.lastError.replace(/\s+/g, ' '), 60) : '',
    ]),
    [6],
  );
}

function article(kind: EmailKind): string {
  return /^[aeiou]/.test(kind) ? 'an' : 'a';
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function withPool<T>(run: (pool: DatabasePool, config: XfcConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const pool = await openPool(config.databaseUrl, { maximumPoolSize: 2 });
  try {
    return await run(pool, config);
  } finally {
    await pool.end();
  }
}

const subcommands: CommandModule[] = [
  {
    command: 'preview [username]',
    describe: 'Print the email a user would receive now, from their latest scan (sends and writes nothing)',
    builder: (yargs) =>
      userArgument(yargs, 'the account name')
        .option('html', { type: 'boolean', default: false, describe: 'print the HTML part only' })
        .option('json', { type: 'boolean', default: false, describe: 'print the decision and the email as JSON' }),
    handler: (args) =>
      withPool(async (pool, config) => {
        const username = requiredUser(args, 'xfc notify preview');
        if (args.html === true && args.json === true) throw new UsageError('Give --html or --json, not both.');
        const preview = await previewNotification(pool, config, username, new Date());
        if (args.json === true) {
          printJson({
            ...preview,
            lastEmailAt: preview.lastEmailAt ? isoTime(preview.lastEmailAt) : null,
          });
          return;
        }
        if (args.html === true) {
          // The HTML alone on stdout, ready for `> alice.html`; the summary goes to stderr.
          console.error(describePreview(preview));
          process.stdout.write(preview.email.html);
          return;
        }
        console.log(`${describePreview(preview)}\n`);
        process.stdout.write(formatPreviewMessage(preview));
      }),
  },
  {
    command: 'history [username]',
    describe: "List a user's notifications: when, kind, status, reason, recipient",
    builder: (yargs) =>
      userArgument(yargs, 'the account name')
        .option('json', { type: 'boolean', default: false, describe: 'print JSON for scripts' })
        .option('limit', { type: 'number', default: 50, describe: 'how many, newest first' }),
    handler: (args) =>
      withPool(async (pool) => {
        const username = requiredUser(args, 'xfc notify history');
        const user = await findUserByName(pool, username);
        if (!user) throw new UserError(`No XFC user "${username}" in the database.`);
        const limit = Number(args.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError('--limit must be a whole number of at least 1.');
        const rows = await notificationHistory(pool, user.userId, limit);
        if (args.json === true) console.log(JSON.stringify(rows.map(historyEntry), null, 2));
        else console.log(formatHistory(rows));
      }),
  },
];

export const notifyCommand: CommandModule = {
  command: 'notify <command>',
  describe: 'Preview the email a user would get, and list what was sent',
  builder: (yargs) => {
    for (const subcommand of subcommands) yargs.command(subcommand);
    return yargs.demandCommand(1);
  },
  handler: () => undefined,
};
