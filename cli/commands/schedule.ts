import type { CommandModule } from 'yargs';
import { formatDuration } from '../../lib/common/duration.js';
import { formatTime, isoTime } from '../../lib/common/time.js';
import { loadConfig } from '../../lib/config/env.js';
import { connectTemporal } from '../../lib/temporal/client.js';
import { sweepScheduleId } from '../../lib/temporal/names.js';
import { applySweepSchedule, describeSweepSchedule } from '../../lib/temporal/schedule.js';
import type { Client } from '@temporalio/client';
import { printJson } from '../output.js';

async function withClient(run: (client: Client) => Promise<void>): Promise<void> {
  const client = await connectTemporal(loadConfig());
  try {
    await run(client);
  } finally {
    await client.connection.close();
  }
}

async function show(client: Client, json: boolean): Promise<void> {
  const description = await describeSweepSchedule(client);
  const interval = description.spec.intervals?.[0]?.every;
  const next = description.info.nextActionTimes[0];
  const recent = description.info.recentActions.slice(-5);
  if (json) {
    printJson({
      scheduleId: sweepScheduleId,
      paused: description.state.paused,
      note: description.state.note ?? null,
      everyMs: interval === undefined ? null : Number(interval),
      overlap: description.policies.overlap,
      catchupWindowMs: description.policies.catchupWindow,
      nextSweep: next && !description.state.paused ? isoTime(next) : null,
      recent: recent.map((action) => ({
        takenAt: isoTime(action.takenAt),
        workflowId: action.action.workflow.workflowId,
      })),
    });
    return;
  }
  console.log(`Schedule ${sweepScheduleId}: ${description.state.paused ? 'PAUSED' : 'active'}`);
  if (description.state.note) console.log(`  note        ${description.state.note}`);
  if (interval !== undefined) console.log(`  every       ${formatDuration(Number(interval))}`);
  console.log(
    `  overlap     ${description.policies.overlap}, catch-up window ${formatDuration(description.policies.catchupWindow)}`,
  );
  if (next && !description.state.paused) console.log(`  next sweep  ${formatTime(next)}`);
  for (const action of recent) {
    console.log(`  ran         ${formatTime(action.takenAt)} → ${action.action.workflow.workflowId}`);
  }
}

const subcommands: CommandModule[] = [
  {
    command: 'apply',
    describe: 'Create or update the sweep schedule from the configuration (idempotent; workers do it at start-up)',
    handler: () =>
      withClient(async (client) => {
        const config = loadConfig();
        const result = await applySweepSchedule(client, config);
        console.log(
          `Schedule ${result.scheduleId} ${result.created ? 'created' : 'updated'}: every ${result.every}, overlap SKIP.`,
        );
      }),
  },
  {
    command: 'pause',
    describe: 'Stop starting sweeps (running scans go on)',
    builder: (yargs) => yargs.option('note', { type: 'string', describe: 'why, shown by `xfc schedule show`' }),
    handler: (args) =>
      withClient(async (client) => {
        const note =
          typeof args.note === 'string' ? args.note : `paused with xfc schedule pause at ${new Date().toISOString()}`;
        await client.schedule.getHandle(sweepScheduleId).pause(note);
        console.log(`Schedule ${sweepScheduleId} paused.`);
      }),
  },
  {
    command: 'unpause',
    describe: 'Start sweeps again',
    handler: () =>
      withClient(async (client) => {
        await client.schedule.getHandle(sweepScheduleId).unpause('unpaused with xfc schedule unpause');
        console.log(`Schedule ${sweepScheduleId} active again.`);
      }),
  },
  {
    command: 'trigger',
    describe: 'Run one sweep now (skipped if one is running)',
    handler: () =>
      withClient(async (client) => {
        await client.schedule.getHandle(sweepScheduleId).trigger();
        console.log(`Schedule ${sweepScheduleId} triggered.`);
      }),
  },
  {
    command: 'show',
    describe: 'Show the schedule, its next run and recent sweeps',
    builder: (yargs) => yargs.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
    handler: (args) => withClient((client) => show(client, args.json === true)),
  },
];

export const scheduleCommand: CommandModule = {
  command: 'schedule <command>',
  describe: `Manage the sweep schedule (${sweepScheduleId})`,
  builder: (yargs) => {
    for (const subcommand of subcommands) yargs.command(subcommand);
    return yargs.demandCommand(1);
  },
  handler: () => undefined,
};
