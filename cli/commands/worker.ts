import type { CommandModule } from 'yargs';
import { loadConfig } from '../../lib/config/env.js';
import { startWorkers, workerRoles, type WorkerRole } from '../../workers/run.js';

export const workerCommand: CommandModule<object, { role: string }> = {
  command: 'worker',
  describe: 'Run Temporal workers: control (workflows, database, messaging, mail) and/or scan (walks)',
  builder: (yargs) =>
    yargs.option('role', {
      choices: workerRoles,
      default: 'all',
      describe: 'control: task queue xfc-control; scan: XFC_SCAN_TASK_QUEUE on a host that mounts the volumes',
    }),
  handler: async (args) => {
    const workers = await startWorkers(loadConfig(), args.role as WorkerRole);
    const stop = (signal: string): void => {
      console.log(`${signal}: stopping; running walks save a checkpoint and resume elsewhere.`);
      workers.stop().catch((err: unknown) => console.error(err));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    await workers.done;
  },
};
