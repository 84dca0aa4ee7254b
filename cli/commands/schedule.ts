import type { CommandModule } from 'yargs';
import { formatDuration } from '../../common/duration.js';
import { loadConfig } from '../../config/env.js';
import { connectTemporal } from '../../temporal/client.js';
import { sweepScheduleId } from '../../temporal/names.js';
import { applySweepSchedule, describeSweepSchedule } from '../../temporal/schedule.js';
import type { Client } from '@temporalio/client';

async function withClient(run: (client: Client) => Promise<void>): Promise<void> {
  const client = await connectTemporal(loadConfig());
  try {
    await run(client);
  } finally {
    await client.connection.close();
  }
}

async function show(client: Client): Promise<void> {
  const description = await describeSweepSchedule(client);
  const interval = description.spec.intervals?.[0]?.every;
  console.log(`Schedule ${sweepScheduleId}: ${description.state.paused ? 'PAUSED' : 'active'}`);
  if (description.state.note) console.log(`  note        ${description.state.note}`);
  if (interval !== undefined) console.log(`  every       ${formatDuration(Number(interval))}`);
  console.log(
    `  overlap     ${description.policies.overlap}, catch-up window ${formatDuration(description.policies.catchupWindow)}`,
  );
  const next = description.info.nextActionTimes[0];
  if (next && !description.state.paused) console.log(`  next sweep  ${next.toISOString()}`);
  const recent = description.info.recentActions.slice(-5);
  for (const action of recent) {
    console.log(`  ran         ${action.takenAt.toISOString()} → ${action.action.workflow.workflowId}`);
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
    handler: () => withClient(show),
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
