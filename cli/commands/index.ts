import type { CommandModule } from 'yargs';

/**
 * Every `xfc` command, in the order `xfc --help` lists them. Each command's module is loaded only when that command
 * runs: together they pull in the Temporal worker, slonik, amqplib and nodemailer (about a second of start-up),
 * which `xfc scan` or `xfc --help` should not pay for. The usage and description here are what `xfc --help`
 * shows; test/cli/catalog.test.ts checks that they match the modules'.
 */
export interface CommandEntry {
  name: string;
  usage: string;
  describe: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module has its own argument type
  load(): Promise<CommandModule<any, any>>;
}

export const commandCatalog: CommandEntry[] = [
  {
    name: 'scan',
    usage: 'scan <path>',
    describe: 'Measure one directory now: hard and temporal usage, top directories, ages (read-only)',
    load: async () => (await import('./scan.js')).scanCommand,
  },
  {
    name: 'users',
    usage: 'users <command>',
    describe: 'List and show users; rebuild missing users from their directories',
    load: async () => (await import('./users.js')).usersCommand,
  },
  {
    name: 'db',
    usage: 'db <command>',
    describe: 'Database schema: apply migrations, show their state',
    load: async () => (await import('./db.js')).dbCommand,
  },
  {
    name: 'workflow',
    usage: 'workflow <command>',
    describe: 'Start scans and sweeps, and follow them',
    load: async () => (await import('./workflow.js')).workflowCommand,
  },
  {
    name: 'schedule',
    usage: 'schedule <command>',
    describe: 'Manage the sweep schedule (xfc-sweep)',
    load: async () => (await import('./schedule.js')).scheduleCommand,
  },
  {
    name: 'worker',
    usage: 'worker',
    describe: 'Run Temporal workers: control (workflows, database, messaging, mail) and/or scan (walks)',
    load: async () => (await import('./worker.js')).workerCommand,
  },
  {
    name: 'bridge',
    usage: 'bridge',
    describe: 'Start workflows from RabbitMQ messages (scan.request → scanUser, scan.completed/failed → applyScan)',
    load: async () => (await import('./bridge.js')).bridgeCommand,
  },
  {
    name: 'amqp',
    usage: 'amqp <command>',
    describe: 'RabbitMQ: declare the topology, list or requeue dead letters',
    load: async () => (await import('./amqp.js')).amqpCommand,
  },
  {
    name: 'notify',
    usage: 'notify <command>',
    describe: 'Preview the email a user would get, and list what was sent',
    load: async () => (await import('./notify.js')).notifyCommand,
  },
  {
    name: 'report',
    usage: 'report',
    describe: 'Usage history and scan health as one self-contained HTML page (or serve it: report serve)',
    load: async () => (await import('./report.js')).reportCommand,
  },
  {
    name: 'dev',
    usage: 'dev',
    describe:
      'Run everything locally: database, RabbitMQ topology, Temporal (a dev server if none runs), workers, bridge, schedule',
    load: async () => (await import('./dev.js')).devCommand,
  },
  {
    name: 'demo',
    usage: 'demo',
    describe: 'Build a small XFC tree under ./var/demo, register its users, scan them through the whole pipeline',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  {
    name: 'doctor',
    usage: 'doctor',
    describe: 'Check PostgreSQL, RabbitMQ, Temporal, SMTP and XFC_ROOT, and say what to fix',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
];
