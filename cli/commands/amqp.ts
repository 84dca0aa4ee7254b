import { printable, printableOrDash } from '../../lib/common/printable.js';
import type { CommandModule } from 'yargs';
import { AmqpConnectError } from '../../lib/amqp/connection.js';
import { listDeadLetters, requeueDeadLetters, type DeadLetter } from '../../lib/amqp/dead-letters.js';
import { declareTopology, describeTopology } from '../../lib/amqp/topology.js';
import { UserError } from '../../lib/common/errors.js';
import { loadConfig, redact } from '../../lib/config/env.js';
import { formatTable } from '../../lib/common/table.js';

/** Turns "cannot connect" into an error that says what to do. */
async function withBroker<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AmqpConnectError) {
      throw new UserError(`${err.message}. Start RabbitMQ or set XFC_AMQP_URL.`);
    }
    throw err;
  }
}

const setup: CommandModule = {
  command: 'setup',
  describe: 'Declare the exchanges, queues and bindings (idempotent) and print them',
  handler: async () => {
    const config = loadConfig();
    await withBroker(() => declareTopology(config.amqpUrl));
    console.log(`RabbitMQ ${redact(config.amqpUrl)}: topology declared.`);
    for (const line of describeTopology()) console.log(`  ${line}`);
  },
};

interface DeadArgs {
  requeue: boolean;
  limit: number;
  json: boolean;
}

function deadTable(letters: DeadLetter[]): string {
  return formatTable(
    ['#', 'type', 'message id', 'reason', 'from', 'size', 'detail', 'body'],
    letters.map((l, i) => [
      String(i + 1),
      // Properties and headers are whatever the publisher chose: escaped, so they cannot drive the terminal.
      printableOrDash(l.type),
      printableOrDash(l.messageId),
      printable(l.reason),
      printableOrDash(l.from),
      String(l.size),
      truncate(printable(l.detail ?? ''), 60),
      truncate(l.preview, 60),
    ]),
    [0, 5],
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const dead: CommandModule<object, DeadArgs> = {
  command: 'dead',
  describe: 'List dead-lettered messages (xfc.dead) with their reasons; --requeue puts them back on xfc',
  builder: (yargs) =>
    yargs
      .option('requeue', {
        type: 'boolean',
        default: false,
        describe: 'Re-publish them to xfc with their original routing key (the bridge validates them again)',
      })
      .option('limit', { type: 'number', default: 100, describe: 'At most this many, oldest first' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON for scripts' })
      .check((args) => {
        if (!Number.isInteger(args.limit) || args.limit < 1) throw new Error('--limit must be a whole number ≥ 1');
        return true;
      }),
  handler: async (args) => {
    const config = loadConfig();
    if (!args.requeue) {
      const letters = await withBroker(() =>
        listDeadLetters(config.amqpUrl, { limit: args.limit, topology: config.amqpTopology }),
      );
      if (args.json) console.log(JSON.stringify(letters, null, 2));
      else if (letters.length === 0) console.log('xfc.dead is empty.');
      else {
        console.log(deadTable(letters));
        if (letters.length === args.limit) console.log(`(first ${args.limit}; --limit shows more)`);
      }
      return;
    }
    const result = await withBroker(() =>
      requeueDeadLetters(config.amqpUrl, { limit: args.limit, topology: config.amqpTopology }),
    );
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`Requeued ${result.requeued.length} message(s) to xfc.`);
      if (result.requeued.length > 0) console.log(deadTable(result.requeued));
      for (const { letter, error } of result.failed) {
        console.log(`Kept ${printable(letter.messageId ?? '(no id)')} in xfc.dead: ${printable(error)}`);
      }
    }
    if (result.failed.length > 0) process.exitCode = 1;
  },
};

export const amqpCommand: CommandModule = {
  command: 'amqp <command>',
  describe: 'RabbitMQ: declare the topology, list or requeue dead letters',
  builder: (yargs) => yargs.command(setup).command(dead).demandCommand(1),
  handler: () => undefined,
};
