import { randomUUID } from 'node:crypto';
import type { CommandModule } from 'yargs';
import { ExitCode, UserError } from '../../lib/common/errors.js';
import { xfcCommand } from '../../lib/common/invocation.js';
import { formatTime, isoTime } from '../../lib/common/time.js';
import { loadConfig, type XfcConfig } from '../../lib/config/env.js';
import type { ScanRequest } from '../../lib/messages/v1/index.js';
import { connectTemporal, userWorkflowsUrl, workflowUrl } from '../../lib/temporal/client.js';
import { scanWorkflowId, sweepWorkflowIdPrefix, workflowTypes } from '../../lib/temporal/names.js';
import { scanResult } from '../../lib/temporal/scan-result.js';
import { startScanWorkflow } from '../../lib/temporal/starters.js';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import type { ScanUserResult, SweepInput, SweepResult } from '../../lib/temporal/contracts.js';
import { printJson } from '../output.js';
import { describeScanProgress, describeScanResult } from '../scan-summary.js';
import { currentScanProgress, watchScan } from '../scan-watch.js';
import { requiredUser, userArgument, type UserArguments } from '../user-argument.js';

/** The exit status a scan's result deserves: 1 failed, 3 partial (a lower bound), 0 complete or already served. */
export function scanExitCode(result: ScanUserResult): number {
  if (result.type === 'scan.failed') return ExitCode.failure;
  if (result.type === 'scan.completed' && result.message.status !== 'complete') return ExitCode.partial;
  return ExitCode.ok;
}

async function startScan(
  config: XfcConfig,
  username: string,
  options: { wait: boolean; json: boolean },
): Promise<void> {
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
    const links = { webUi: workflowUrl(config, outcome.workflowId), userWorkflows: userWorkflowsUrl(config, username) };
    if (!options.json) {
      console.log(
        outcome.started
          ? `Started ${outcome.workflowId} (run ${outcome.runId}).`
          : `A scan of ${username} is already running: ${outcome.workflowId} (run ${outcome.runId}); not started again.`,
      );
      console.log(`Web UI: ${links.webUi}`);
      console.log(`All of ${username}'s workflows: ${links.userWorkflows}`);
    }
    if (!options.wait) {
      if (options.json) printJson({ ...outcome, ...links });
      return;
    }
    await watchScan(client, config, outcome.workflowId);
    const result = await scanResult(client.workflow.getHandle(outcome.workflowId));
    if (options.json) printJson({ ...outcome, ...links, result });
    else console.log(describeScanResult(result));
    process.exitCode = scanExitCode(result);
  } finally {
    await client.connection.close();
  }
}

async function startSweep(
  config: XfcConfig,
  options: { wait: boolean; json: boolean; batchSize: number | undefined },
): Promise<void> {
  const client = await connectTemporal(config);
  try {
    const input: SweepInput = options.batchSize === undefined ? {} : { batchSize: options.batchSize };
    const handle = await client.workflow.start(workflowTypes.sweep, {
      workflowId: `${sweepWorkflowIdPrefix}-manual-${new Date().toISOString()}`,
      taskQueue: config.temporal.controlTaskQueue,
      args: [input],
      staticSummary: 'Sweep started by hand (xfc workflow start sweep)',
    });
    const started = {
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      webUi: workflowUrl(config, handle.workflowId),
    };
    if (!options.json) {
      console.log(`Started ${handle.workflowId}.`);
      console.log(`Web UI: ${started.webUi}`);
    }
    if (!options.wait) {
      if (options.json) printJson(started);
      return;
    }
    const result = (await handle.result()) as SweepResult;
    if (options.json) printJson({ ...started, result });
    else
      console.log(
        result.published === 0
          ? 'No user was due for a scan.'
          : `Requested scans of ${result.published} user(s): ${result.claimed.join(', ')}`,
      );
  } finally {
    await client.connection.close();
  }
}

async function showScanStatus(config: XfcConfig, username: string, json: boolean): Promise<void> {
  const client = await connectTemporal(config);
  try {
    const handle = client.workflow.getHandle(scanWorkflowId(username));
    let description;
    try {
      description = await handle.describe();
    } catch {
      throw new UserError(
        `No scan workflow for ${username} has run yet (start one with \`${xfcCommand(`workflow start scan ${username}`)}\`).`,
      );
    }
    const status = description.status.name;
    const running = status === 'RUNNING';
    const progress = running ? await currentScanProgress(client, description.workflowId, description) : null;
    const pending = running ? (description.raw.pendingActivities ?? []) : [];
    const activities = pending.map((activity) => ({
      type: activity.activityType?.name ?? '?',
      attempt: activity.attempt ?? 1,
      state: String(activity.state ?? ''),
    }));
    // A scan that ended in scan.failed is FAILED (runs from before that change: COMPLETED); both carry the result.
    const result = status === 'COMPLETED' || status === 'FAILED' ? await scanResult(handle).catch(() => null) : null;
    const webUi = workflowUrl(config, description.workflowId, description.runId);
    if (json) {
      printJson({
        workflowId: description.workflowId,
        runId: description.runId,
        status,
        startTime: isoTime(description.startTime),
        closeTime: description.closeTime ? isoTime(description.closeTime) : null,
        progress,
        activities,
        result,
        webUi,
      });
    } else {
      console.log(`${description.workflowId} (run ${description.runId}): ${status}`);
      console.log(`  started  ${formatTime(description.startTime)}`);
      if (description.closeTime) console.log(`  ended    ${formatTime(description.closeTime)}`);
      if (progress) console.log(`  progress ${describeScanProgress(progress)}`);
      for (const activity of activities) {
        console.log(`  activity ${activity.type}: attempt ${activity.attempt}, ${activity.state}`);
      }
      if (result) console.log(describeScanResult(result));
      console.log(`Web UI: ${webUi}`);
    }
    // A scan that ended badly is a failure for scripts too; a running one is not (yet).
    if (result) process.exitCode = scanExitCode(result);
    else if (!running) process.exitCode = ExitCode.failure;
  } finally {
    await client.connection.close();
  }
}

interface StartArgs extends UserArguments {
  kind: 'scan' | 'sweep';
  wait: boolean;
  json: boolean;
  'via-queue': boolean;
  batch?: number;
}

const start: CommandModule<object, StartArgs> = {
  command: 'start <kind> [username]',
  describe: 'Start a scan of one user, or a sweep now',
  builder: (yargs) =>
    userArgument(
      yargs.positional('kind', { choices: ['scan', 'sweep'] as const, demandOption: true, describe: 'what to start' }),
      'username to scan (scan only)',
    )
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'wait for the result, drawing progress; exit 1 if the scan failed, 3 if it was partial',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (with --wait: and the result)' })
      .option('via-queue', {
        type: 'boolean',
        default: false,
        describe: 'publish a scan.request to RabbitMQ instead of starting the workflow directly',
      })
      .option('batch', { type: 'number', describe: 'users to claim (sweep only; default XFC_SWEEP_BATCH_SIZE)' })
      .example('$0 workflow start scan alice --wait', 'scan alice now and print the result')
      .example('$0 workflow start sweep', 'request scans of the stalest users now'),
  handler: async (args) => {
    const config = loadConfig();
    if (args.kind === 'sweep') return startSweep(config, { wait: args.wait, json: args.json, batchSize: args.batch });
    const username = requiredUser(args, 'xfc workflow start scan');
    if (args['via-queue']) {
      const { requestId } = await requestScanViaQueue(config, username);
      const links = { userWorkflows: userWorkflowsUrl(config, username) };
      if (args.json) {
        printJson({ requestId, username, workflowId: scanWorkflowId(username), ...links });
        return;
      }
      console.log(`Published scan.request ${requestId} for ${username}; the bridge will start scan-${username}.`);
      console.log(`All of ${username}'s workflows: ${links.userWorkflows}`);
      return;
    }
    await startScan(config, username, { wait: args.wait, json: args.json });
  },
};

const status: CommandModule<object, { kind: 'scan'; json: boolean } & UserArguments> = {
  command: 'status <kind> [username]',
  describe: 'Show the progress or result of a user’s scan',
  builder: (yargs) =>
    userArgument(yargs.positional('kind', { choices: ['scan'] as const, demandOption: true }))
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .epilogue('Exit status: 0 running or complete, 1 failed (or no such scan), 3 partial.'),
  handler: async (args) => showScanStatus(loadConfig(), requiredUser(args, 'xfc workflow status scan'), args.json),
};

export const workflowCommand: CommandModule = {
  command: 'workflow <command>',
  describe: 'Start scans and sweeps, and follow them',
  builder: (yargs) => yargs.command(start).command(status).demandCommand(1),
  handler: () => undefined,
};
