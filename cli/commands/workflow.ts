import { randomUUID } from 'node:crypto';
import type { CommandModule } from 'yargs';
import { UsageError, UserError } from '../../common/errors.js';
import { usernameProblem } from '../../common/username.js';
import { loadConfig, type XfcConfig } from '../../config/env.js';
import type { ScanRequest } from '../../messages/v1/index.js';
import { connectTemporal, userWorkflowsUrl, workflowUrl } from '../../temporal/client.js';
import { scanWorkflowId, sweepWorkflowIdPrefix, workflowTypes } from '../../temporal/names.js';
import { startScanWorkflow } from '../../temporal/starters.js';
import { requestScanViaQueue } from '../../amqp/requests.js';
import type { ScanProgressView } from '../../workflows/scan-user.js';
import type { ScanUserResult, SweepInput, SweepResult } from '../../workflows/types.js';
import { describeScanProgress, describeScanResult } from '../scan-summary.js';

function checkedUsername(name: string): string {
  const problem = usernameProblem(name);
  if (problem) throw new UsageError(`--user ${JSON.stringify(name)} is not a valid username: it ${problem}.`);
  return name;
}

async function startScan(config: XfcConfig, username: string, wait: boolean): Promise<void> {
  const request: ScanRequest = {
    version: 1,
    requestId: `manual-${randomUUID()}`,
    username,
    reason: 'manual',
    requestedAt: new Date().toISOString(),
  };
  const client = await connectTemporal(config);
  try {
    const outcome = await startScanWorkflow(client, config, request);
    console.log(
      outcome.started
        ? `Started ${outcome.workflowId} (run ${outcome.runId}).`
        : `A scan of ${username} is already running: ${outcome.workflowId} (run ${outcome.runId}); not started again.`,
    );
    console.log(`Web UI: ${workflowUrl(config, outcome.workflowId)}`);
    console.log(`All of ${username}'s workflows: ${userWorkflowsUrl(config, username)}`);
    if (!wait) return;
    const result = await client.workflow
      .getHandle<(input: unknown) => Promise<ScanUserResult>>(outcome.workflowId)
      .result();
    console.log(describeScanResult(result));
    if (result.type === 'scan.failed') process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}

async function startSweep(config: XfcConfig, wait: boolean, batchSize: number | undefined): Promise<void> {
  const client = await connectTemporal(config);
  try {
    const input: SweepInput = batchSize === undefined ? {} : { batchSize };
    const handle = await client.workflow.start(workflowTypes.sweep, {
      workflowId: `${sweepWorkflowIdPrefix}-manual-${new Date().toISOString()}`,
      taskQueue: config.temporal.controlTaskQueue,
      args: [input],
    });
    console.log(`Started ${handle.workflowId}.`);
    console.log(`Web UI: ${workflowUrl(config, handle.workflowId)}`);
    if (!wait) return;
    const result = (await handle.result()) as SweepResult;
    console.log(
      result.published === 0
        ? 'No user was due for a scan.'
        : `Requested scans of ${result.published} user(s): ${result.claimed.join(', ')}`,
    );
  } finally {
    await client.connection.close();
  }
}

async function showScanStatus(config: XfcConfig, username: string): Promise<void> {
  const client = await connectTemporal(config);
  try {
    const handle = client.workflow.getHandle(scanWorkflowId(username));
    let description;
    try {
      description = await handle.describe();
    } catch {
      throw new UserError(
        `No scan workflow for ${username} has run yet (start one with \`xfc workflow start scan --user ${username}\`).`,
      );
    }
    console.log(`${description.workflowId} (run ${description.runId}): ${description.status.name}`);
    console.log(`  started  ${description.startTime.toISOString()}`);
    if (description.status.name === 'RUNNING') {
      const view = await handle.query<ScanProgressView | null>('progress');
      if (view?.progress)
        console.log(`  progress ${describeScanProgress(view.progress)} (${view.chunks} chunk(s) done)`);
      const pending = description.raw.pendingActivities ?? [];
      for (const activity of pending) {
        console.log(
          `  activity ${activity.activityType?.name ?? '?'}: attempt ${activity.attempt ?? 1}, ${activity.state ?? ''}`,
        );
      }
    } else if (description.status.name === 'COMPLETED') {
      console.log(describeScanResult((await handle.result()) as ScanUserResult));
    }
    console.log(`Web UI: ${workflowUrl(config, description.workflowId, description.runId)}`);
  } finally {
    await client.connection.close();
  }
}

interface StartArgs {
  kind: 'scan' | 'sweep';
  user?: string;
  wait: boolean;
  'via-queue': boolean;
  batch?: number;
}

const start: CommandModule<object, StartArgs> = {
  command: 'start <kind>',
  describe: 'Start a scan of one user, or a sweep now',
  builder: (yargs) =>
    yargs
      .positional('kind', { choices: ['scan', 'sweep'] as const, demandOption: true, describe: 'what to start' })
      .option('user', { type: 'string', describe: 'username to scan (scan only)' })
      .option('wait', { type: 'boolean', default: false, describe: 'wait for the result and print a summary' })
      .option('via-queue', {
        type: 'boolean',
        default: false,
        describe: 'publish a scan.request to RabbitMQ instead of starting the workflow directly',
      })
      .option('batch', { type: 'number', describe: 'users to claim (sweep only; default XFC_SWEEP_BATCH_SIZE)' })
      .example('$0 workflow start scan --user alice --wait', 'scan alice now and print the result')
      .example('$0 workflow start sweep', 'request scans of the stalest users now'),
  handler: async (args) => {
    const config = loadConfig();
    if (args.kind === 'sweep') return startSweep(config, args.wait, args.batch);
    if (!args.user) throw new UsageError('`xfc workflow start scan` needs --user NAME.');
    const username = checkedUsername(args.user);
    if (args['via-queue']) {
      const { requestId } = await requestScanViaQueue(config, username);
      console.log(`Published scan.request ${requestId} for ${username}; the bridge will start scan-${username}.`);
      console.log(`All of ${username}'s workflows: ${userWorkflowsUrl(config, username)}`);
      return;
    }
    await startScan(config, username, args.wait);
  },
};

const status: CommandModule<object, { kind: 'scan'; user: string }> = {
  command: 'status <kind>',
  describe: 'Show the progress or result of a user’s scan',
  builder: (yargs) =>
    yargs
      .positional('kind', { choices: ['scan'] as const, demandOption: true })
      .option('user', { type: 'string', demandOption: true, describe: 'username' }),
  handler: async (args) => showScanStatus(loadConfig(), checkedUsername(args.user)),
};

export const workflowCommand: CommandModule = {
  command: 'workflow <command>',
  describe: 'Start scans and sweeps, and follow them',
  builder: (yargs) => yargs.command(start).command(status).demandCommand(1),
  handler: () => undefined,
};
