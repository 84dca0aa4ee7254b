import type { Channel } from 'amqplib';
import type { MessageType } from '../messages/v1/index.js';
import { closeQuietly, connectAmqp } from './connection.js';

/**
 * The RabbitMQ topology of docs/design.md §5, in one place. Everything here is declared idempotently by the bridge at
 * start-up, by every (re)connection, and by `xfc amqp setup`; the vhost is the path of XFC_AMQP_URL.
 *
 * Changing a queue argument below makes the next declaration fail with PRECONDITION_FAILED on a broker that
 * already has the queue: RabbitMQ never changes the arguments of an existing queue. Delete the (drained) queue, or
 * override the value with a policy, when you change them.
 */

/** Topic exchange every xfc message is published to; the routing key is the message type. */
export const mainExchange = 'xfc';
/** Where rejected, over-delivered and unparseable messages go (fanout: the routing key is kept, not used). */
export const deadLetterExchange = 'xfc.dlx';
export const deadQueue = 'xfc.dead';
export const scanRequestQueue = 'xfc.scan.request';
export const scanCompletedQueue = 'xfc.scan.completed';

/**
 * How many times a quorum queue delivers one message before it dead-letters it (reason `delivery_limit`).
 * Deliveries that end in a requeue count, and so do deliveries that were unacked when a connection dropped, so the
 * limit must cover a long Temporal outage (see the bridge's retry delays) plus a few reconnections: 50 deliveries
 * at the bridge's 30 s maximum delay ride out about 20 minutes of Temporal being unreachable.
 */
export const deliveryLimit = 50;

/** Largest body the bridge accepts; anything larger is dead-lettered unread (see docs/messages.md). */
export const maxBodyBytes = 1024 * 1024;

/** The routing key of each message type is its name. */
export function routingKeyFor(type: MessageType): string {
  return type;
}

export interface QueueSpec {
  name: string;
  bindings: string[];
  arguments: Record<string, string | number>;
}

/** Arguments shared by the two work queues: replicated, bounded redelivery, safe dead-lettering. */
const workQueueArguments = {
  'x-queue-type': 'quorum',
  'x-delivery-limit': deliveryLimit,
  'x-dead-letter-exchange': deadLetterExchange,
  // At-least-once dead-lettering (RabbitMQ ≥ 3.10): the queue keeps a dead-lettered message until xfc.dead has
  // confirmed it, so a message is never lost on its way to the dead-letter queue. It requires reject-publish.
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
} as const;

export const queues: readonly QueueSpec[] = [
  { name: scanRequestQueue, bindings: ['scan.request'], arguments: { ...workQueueArguments } },
  { name: scanCompletedQueue, bindings: ['scan.completed', 'scan.failed'], arguments: { ...workQueueArguments } },
  // Quorum too: dead letters are the messages we must not lose (replicated, fsynced), and nothing consumes it
  // except a person with `xfc amqp dead`, so it has no delivery limit and no dead-letter exchange of its own.
  { name: deadQueue, bindings: [''], arguments: { 'x-queue-type': 'quorum' } },
];

export const exchanges = [
  { name: mainExchange, type: 'topic' },
  { name: deadLetterExchange, type: 'fanout' },
] as const;

/** Which exchange each queue is bound to. */
export function exchangeOf(queue: string): string {
  return queue === deadQueue ? deadLetterExchange : mainExchange;
}

/**
 * 'declare': create what is missing (needs RabbitMQ's configure permission). 'check': only verify that the exchanges
 * and queues exist (passive declarations), so processes can run with read/write permissions alone and the topology
 * is declared by `xfc amqp setup` under an administrative user (XFC_AMQP_TOPOLOGY=check, see docs/security.md).
 */
export type TopologyMode = 'declare' | 'check';

export class TopologyMissingError extends Error {
  constructor(detail: string) {
    super(
      `The RabbitMQ topology is incomplete (${detail}). Run \`xfc amqp setup\` as a user allowed to configure the vhost.`,
    );
    this.name = 'TopologyMissingError';
  }
}

/**
 * Declares exchanges, queues and bindings on a channel, or over a short-lived connection to a URL. Safe to repeat;
 * fails if an existing queue was declared with other arguments. In 'check' mode it only verifies they exist.
 */
export async function declareTopology(target: Channel | string, mode: TopologyMode = 'declare'): Promise<void> {
  if (typeof target === 'string') {
    const connection = await connectAmqp(target, 'setup');
    try {
      const channel = await connection.createChannel();
      // A failed check closes the channel with an 'error' event; the rejected call below reports it.
      channel.on('error', () => undefined);
      await declareTopology(channel, mode);
    } finally {
      await closeQuietly(connection);
    }
    return;
  }
  const channel = target;
  if (mode === 'check') return checkTopology(channel);
  for (const exchange of exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: true, autoDelete: false, internal: false });
  }
  for (const queue of queues) {
    await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    for (const key of queue.bindings) await channel.bindQueue(queue.name, exchangeOf(queue.name), key);
  }
}

async function checkTopology(channel: Channel): Promise<void> {
  // A failed passive declaration closes the channel (404), so the first missing piece ends the check.
  for (const exchange of exchanges) {
    await channel.checkExchange(exchange.name).catch((err: Error) => {
      throw new TopologyMissingError(`exchange ${exchange.name}: ${err.message}`);
    });
  }
  for (const queue of queues) {
    await channel.checkQueue(queue.name).catch((err: Error) => {
      throw new TopologyMissingError(`queue ${queue.name}: ${err.message}`);
    });
  }
}

/** A readable description of the topology, for `xfc amqp setup`. */
export function describeTopology(): string[] {
  const lines = exchanges.map((e) => `exchange ${e.name} (${e.type}, durable)`);
  for (const queue of queues) {
    const args = Object.entries(queue.arguments)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
    const keys = queue.bindings.map((key) => (key === '' ? '(all)' : key)).join(', ');
    lines.push(`queue ${queue.name} ← ${exchangeOf(queue.name)} [${keys}] ${args}`);
  }
  return lines;
}
