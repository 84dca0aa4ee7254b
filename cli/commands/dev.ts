import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode, errorMessage } from '../../lib/common/errors.js';
import { loadConfig, redact } from '../../lib/config/env.js';
import { startDevStack, type DevStack } from '../ops/dev-stack.js';
import { migrationNames } from '../../db/migrate.js';
import { userWorkflowsUrl } from '../../lib/temporal/client.js';
import { xfcCommand } from '../../lib/common/invocation.js';
import { startDevReport } from '../../lib/report/dev-report.js';

/** A path as a person typing in this directory would write it. */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** The lines `xfc dev` (and `xfc demo --keep`) print once everything runs. */
export function describeStack(stack: DevStack, exampleUser = 'alice'): string[] {
  const { config } = stack;
  const label = (name: string): string => `  ${name.padEnd(17)}`;
  const migrations = migrationNames();
  const lines = [
    `${label('Temporal Web UI')}${stack.temporal.uiUrl}`,
    `${label('Temporal')}${stack.temporal.address}, namespace ${config.temporal.namespace}` +
      (stack.temporal.startedHere
        ? ` (dev server started here, pid ${stack.temporal.pid}; state in ${shortPath(stack.temporal.dbFile ?? '')})`
        : ' (already running)'),
    `${label('find a scan')}${userWorkflowsUrl(config, exampleUser)}  (Web UI filter XfcUser="${exampleUser}"; ` +
      `or \`${xfcCommand(`workflow status scan ${exampleUser}`)}\`)`,
    `${label('mail')}` +
      (stack.mail.dir
        ? `each email is kept as a file in ${shortPath(stack.mail.dir)}/ (XFC_SMTP_URL is unset; sink at ${stack.mail.url})`
        : `sent to ${redact(stack.mail.url)}`),
    `${label('metrics')}` +
      ([
        config.metrics.port && `http://127.0.0.1:${config.metrics.port}/metrics (xfc)`,
        config.metrics.temporalPort && `http://127.0.0.1:${config.metrics.temporalPort}/metrics (Temporal SDK)`,
      ]
        .filter(Boolean)
        .join(', ') || 'off'),
    `${label('XFC_ROOT')}${stack.root.path}${stack.root.note ? ` (${stack.root.note})` : ''}`,
    `${label('age basis')}${config.scan.ageBasis}`,
    `${label('PostgreSQL')}${redact(config.databaseUrl)}` +
      (stack.database.created ? ' (database created)' : '') +
      (stack.database.applied.length > 0
        ? `, migrations applied: ${stack.database.applied.join(', ')}`
        : `, schema up to date (${migrations.length} migrations)`),
    `${label('RabbitMQ')}${redact(config.amqpUrl)} (topology ${config.amqpTopology === 'check' ? 'checked' : 'declared'}; bridge consuming)`,
    `${label('schedule')}${stack.schedule}`,
  ];
  return lines;
}

/**
 * Waits for SIGINT or SIGTERM (or the workers ending by themselves), then stops the stack. A second signal while
 * stopping exits at once.
 */
export async function runUntilSignal(stack: DevStack): Promise<void> {
  let onSignal: (signal: string) => void = () => undefined;
  const signalled = new Promise<string>((resolve) => (onSignal = resolve));
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const outcome = await Promise.race([
    signalled.then((signal) => ({ signal })),
    stack.done.then(
      () => ({ error: 'the workers stopped' }),
      (err: unknown) => ({ error: errorMessage(err) }),
    ),
  ]);
  process.off('SIGINT', handler);
  process.off('SIGTERM', handler);
  const force = (): void => {
    console.error('Stopping at once.');
    process.exit(ExitCode.failure);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  if ('signal' in outcome) {
    console.log(`\n${outcome.signal}: stopping (walks save a checkpoint; Ctrl-C again to stop at once) …`);
  } else {
    console.error(`xfc dev: ${outcome.error}; stopping.`);
    process.exitCode = ExitCode.failure;
  }
  const started = Date.now();
  await stack.stop();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  console.log(`Stopped in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

export const devCommand: CommandModule = {
  command: 'dev',
  describe:
    'Run everything locally: database, RabbitMQ topology, Temporal (a dev server if none runs), workers, bridge, schedule',
  builder: (yargs) =>
    yargs.epilogue(
      'Needs PostgreSQL and RabbitMQ running, and the temporal CLI (go install ' +
        'github.com/temporalio/cli/cmd/temporal@v1.5.1) unless TEMPORAL_ADDRESS answers. State lives in ' +
        'XFC_VAR_DIR (./var): Temporal’s database, the mail sink’s messages, the demo tree. Ctrl-C stops it.',
    ),
  handler: async () => {
    const config = loadConfig();
    console.log('xfc dev: starting …');
    const stack = await startDevStack({ config });
    const report = await startDevReport(stack.config);
    console.log(
      `\nxfc dev is running. Ctrl-C stops it.\n${describeStack(stack).join('\n')}\n  ${'report'.padEnd(17)}${report.banner}`,
    );
    console.log(
      `\nNext: \`${xfcCommand('demo')}\` in another terminal (a demo tree, scans, an email), ` +
        `\`${xfcCommand('doctor')}\`, \`${xfcCommand('users list')}\`.\n`,
    );
    await runUntilSignal(stack);
    await report.stop();
  },
};
