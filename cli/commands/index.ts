import type { CommandModule } from 'yargs';
import { amqpCommand } from './amqp.js';
import { bridgeCommand } from './bridge.js';
import { dbCommand } from './db.js';
import { demoCommand } from './demo.js';
import { devCommand } from './dev.js';
import { doctorCommand } from './doctor.js';
import { notifyCommand } from './notify.js';
import { scanCommand } from './scan.js';
import { scheduleCommand } from './schedule.js';
import { usersCommand } from './users.js';
import { workerCommand } from './worker.js';
import { workflowCommand } from './workflow.js';

/** Every `xfc` command, in the order `xfc --help` lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module has its own argument type
export const commands: Array<CommandModule<any, any>> = [
  scanCommand,
  usersCommand,
  dbCommand,
  workflowCommand,
  scheduleCommand,
  workerCommand,
  bridgeCommand,
  amqpCommand,
  notifyCommand,
  devCommand,
  demoCommand,
  doctorCommand,
];
