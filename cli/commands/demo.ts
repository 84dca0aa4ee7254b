import type { CommandModule } from 'yargs';
import { loadConfig } from '../../lib/config/env.js';
import { demoQuotas, demoUsers } from '../ops/demo-tree.js';
import { runDemo, type DemoEmail, type DemoOutcome } from '../ops/demo.js';
import { userWorkflowsUrl } from '../../lib/temporal/client.js';
import { formatTable } from '../../lib/common/table.js';
import { formatTime } from '../../lib/common/time.js';
import { formatUserList } from '../users-view.js';
import { describeStack, runUntilSignal, shortPath } from './dev.js';
import { xfcCommand } from '../../lib/common/invocation.js';

function emailLine(email: DemoEmail): string[] {
  const { row } = email;
  const what =
    row.status === 'sent'
      ? `sent to ${row.recipient ?? '?'}`
      : row.status === 'suppressed'
        ? `recorded, not sent (${row.suppressedReason ?? 'suppressed'})`
        : `${row.status}${row.lastError ? ` (${row.lastError})` : ''}`;
  return [
    row.username,
    row.kind,
    formatTime(row.createdAt),
    email.new ? 'this run' : 'earlier',
    what,
    email.file ? shortPath(email.file) : row.status === 'sent' ? `Message-ID ${row.messageId}` : '',
  ];
}

function ageBasisNote(outcome: DemoOutcome): string {
  if (outcome.ageBasis === 'mtime') {
    return (
      'Age basis: mtime, for the demo only. It dates its files by modification time (utimes); a ctime cannot be ' +
      'set back, it is always the last change (here: the demo setting those dates). Production measures by ctime (the default), because `rsync -a` and ' +
      '`cp -p` keep old modification times on freshly copied data.'
    );
  }
  return (
    "Age basis: ctime (the default). Setting a file's dates sets its ctime to now, so every demo file counts as " +
    'one day old, and only the hard quota tells the users apart. To see the ages the demo gave the files (bob at 94 % of his temporal ' +
    'quota), restart `xfc dev` with XFC_AGE_BASIS=mtime, or stop it and run ' +
    `\`${xfcCommand('demo')}\` alone.`
  );
}

function printOutcome(outcome: DemoOutcome): void {
  console.log(`\nUsage after the scans (demo quotas: hard ${demoQuotas.hard}, temporal ${demoQuotas.temporal}·day):\n`);
  console.log(formatUserList(outcome.users));
  console.log(`\n${ageBasisNote(outcome)}`);
  console.log('\nWhat the demo set up:');
  for (const user of demoUsers) console.log(`  ${user.name.padEnd(6)} ${user.expect}`);

  console.log('\nEmails (the notification outbox, newest first):\n');
  if (outcome.emails.length === 0) console.log('  none');
  else {
    console.log(formatTable(['USER', 'KIND', 'DECIDED', 'BY', 'OUTCOME', 'FILE'], outcome.emails.map(emailLine)));
  }
  if (outcome.emails.length > 0 && !outcome.emails.some((email) => email.new)) {
    console.log(
      '\nNo new email this run. xfc writes when a level rises, a reminder every 7 days ' +
        'while over, and one all-clear when back under; never more than one a day.',
    );
  }
  if (outcome.mailDir)
    console.log(`\nEvery email is a file in ${shortPath(outcome.mailDir)}/ (open it in a mail client, or read it).`);
  const over = outcome.users.find((user) => user.username === 'carol');
  console.log('\nLook closer:');
  if (over)
    console.log(`  ${userWorkflowsUrl(outcome.config, over.username)}   (carol’s scans in the Temporal Web UI)`);
  console.log(`  ${xfcCommand('users show carol').padEnd(36)}   usage, forecast, recent scans, notification state`);
  console.log(`  ${xfcCommand('notify preview bob').padEnd(36)}   the email bob would get now`);
  console.log(
    `\nDone in ${(outcome.elapsedMs / 1000).toFixed(1)} s (${outcome.mode === 'attached' ? 'with the running xfc dev' : 'stack run by the demo'}).`,
  );
}

interface DemoArgs {
  keep: boolean;
  'tree-only': boolean;
  timeout: number;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Build a small XFC tree under ./var/demo, register its users, scan them through the whole pipeline',
  builder: (yargs) =>
    yargs
      .option('keep', {
        type: 'boolean',
        default: false,
        describe: 'keep the stack running afterwards (Web UI, `xfc` commands) until Ctrl-C',
      })
      .option('tree-only', {
        type: 'boolean',
        default: false,
        describe: 'only build the tree (e.g. for docker compose, which mounts ./var/demo/xfc)',
      })
      .option('timeout', { type: 'number', default: 120, describe: 'seconds to wait for the scans' })
      .epilogue(
        'Uses a running `xfc dev` when its workers poll Temporal; otherwise runs the same stack in this process ' +
          '(PostgreSQL and RabbitMQ must run; a Temporal dev server is started if none answers). When the demo runs ' +
          'the stack itself it measures ages by modification time (XFC_AGE_BASIS=mtime), because the demo can only ' +
          'date its files that way. Safe to run again. Refuses a database that has users outside the demo tree.',
      ),
  handler: async (args) => {
    const outcome = await runDemo({
      config: loadConfig(),
      treeOnly: args['tree-only'],
      timeoutMs: args.timeout * 1000,
    });
    if (!('mode' in outcome)) {
      console.log(`Emails for \`xfc users backfill --emails\`: ${shortPath(outcome.tree.emailsFile)}`);
      return;
    }
    printOutcome(outcome);
    const { stack } = outcome;
    if (!stack) {
      if (args.keep) console.log('(--keep: nothing to keep; the running xfc dev goes on.)');
      return;
    }
    if (!args.keep) {
      await stack.stop();
      console.log(`Stack stopped (\`${xfcCommand('demo --keep')}\` keeps it running, to explore the Web UI).`);
      return;
    }
    console.log(`\nThe stack keeps running. Ctrl-C stops it.\n${describeStack(stack, 'carol').join('\n')}\n`);
    await runUntilSignal(stack);
  },
};
