import type { ChannelModel, GetMessage, Message, MessageProperties, Options } from 'amqplib';
import type { ConfirmedPublish } from './confirm.js';
import { confirmedPublisher } from './confirm.js';
import { closeQuietly, connectAmqp } from './connection.js';
import type { ResultRefusal } from '../../db/scan-authority.js';
import type { RejectReason } from './decode.js';
import { deadLetterExchange, deadQueue, declareTopology, mainExchange, type TopologyMode } from './topology.js';
import { errorMessage } from '../common/errors.js';

/**
 * Dead letters: what the bridge could not use, and what the broker gave up on (delivery limit). The bridge
 * publishes a refused message to `xfc.dlx` itself, with the reason in headers, rather than rejecting it (a reject
 * would lose the reason); `xfc amqp dead` lists them and can put them back on `xfc`.
 */

export const deadReasonHeader = 'x-xfc-dead-reason';

/**
 * Why the bridge dead-lettered a message: it could not be decoded (decode.ts), or it is a result that is not
 * authenticated or that xfc did not issue (db/scan-authority.ts).
 */
export type DeadReason = RejectReason | 'unauthenticated' | ResultRefusal;
export const deadDetailHeader = 'x-xfc-dead-detail';
export const deadAtHeader = 'x-xfc-dead-at';
export const originalSizeHeader = 'x-xfc-original-size';
export const originalExchangeHeader = 'x-xfc-original-exchange';

/** A refused body larger than this is kept truncated: it is there to be looked at, it can never become valid. */
export const deadBodyKeepBytes = 64 * 1024;

/** Headers set by the broker or by us on the way to xfc.dead; dropped when a message is put back. */
const deathHeaders = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
  deadReasonHeader,
  deadDetailHeader,
  deadAtHeader,
  originalSizeHeader,
  originalExchangeHeader,
];

/**
 * Sends a delivery the bridge cannot use to xfc.dead, keeping its properties, headers and routing key and adding
 * the reason. Resolves once xfc.dead has it (confirmed); only then may the caller ack the original.
 */
export async function publishDeadLetter(
  publish: ConfirmedPublish,
  message: Message,
  reason: DeadReason,
  detail: string,
): Promise<void> {
  const { content, properties, fields } = message;
  const kept = content.length > deadBodyKeepBytes ? content.subarray(0, deadBodyKeepBytes) : content;
  const headers: Record<string, unknown> = {
    ...(properties.headers ?? {}),
    [deadReasonHeader]: reason,
    [deadDetailHeader]: detail.slice(0, 1000),
    [deadAtHeader]: new Date().toISOString(),
    [originalExchangeHeader]: fields.exchange,
  };
  if (kept !== content) headers[originalSizeHeader] = content.length;
  await publish(deadLetterExchange, fields.routingKey, kept, {
    ...publishProperties(properties),
    headers,
    persistent: true,
  });
}

/** One message in xfc.dead, as `xfc amqp dead` shows it. */
export interface DeadLetter {
  type: string | null;
  messageId: string | null;
  routingKey: string;
  /** Ours (e.g. invalid-message) or the broker's (e.g. delivery_limit). */
  reason: string;
  detail: string | null;
  /** Where it died: the queue for broker dead letters, the exchange it was published to for ours. */
  from: string | null;
  deadAt: string | null;
  size: number;
  /** The first bytes of the body, escaped so they are safe to print. */
  preview: string;
}

export function describeDeadLetter(message: Message, previewBytes = 120): DeadLetter {
  const { properties, fields, content } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const ours = stringOrNull(headers[deadReasonHeader]);
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as Array<Record<string, unknown>>) : [];
  const firstDeath = deaths[deaths.length - 1];
  // amqplib decodes an AMQP timestamp in a table as { '!': 'timestamp', value: seconds }.
  const brokerTime = (firstDeath?.time as { value?: unknown } | undefined)?.value;
  return {
    type: stringOrNull(properties.type),
    messageId: stringOrNull(properties.messageId) || null,
    routingKey: fields.routingKey,
    reason: ours ?? stringOrNull(headers['x-first-death-reason']) ?? 'unknown',
    detail: stringOrNull(headers[deadDetailHeader]),
    from: ours ? stringOrNull(headers[originalExchangeHeader]) : stringOrNull(headers['x-first-death-queue']),
    deadAt: stringOrNull(headers[deadAtHeader]) ?? (typeof brokerTime === 'number' ? isoSeconds(brokerTime) : null),
    size: typeof headers[originalSizeHeader] === 'number' ? headers[originalSizeHeader] : content.length,
    preview: escapeBytes(content.subarray(0, previewBytes)) + (content.length > previewBytes ? '…' : ''),
  };
}

/** Printable ASCII as is, everything else as \xNN (and backslash doubled), so any body prints on one line. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export interface DeadLetterOptions {
  /** At most this many messages, oldest first. */
  limit: number;
  /** Declare the topology first (default) or only check that it exists. */
  topology?: TopologyMode;
}

/**
 * Reads up to `limit` dead letters without removing them: they are fetched unacknowledged and returned to the
 * queue when the channel closes.
 */
export async function listDeadLetters(amqpUrl: string, options: DeadLetterOptions): Promise<DeadLetter[]> {
  return withConnection(amqpUrl, async (connection) => {
    const channel = await connection.createChannel();
    await declareTopology(channel, options.topology);
    const messages = await fetchUnacked(channel, options.limit);
    await channel.close();
    return messages.map((message) => describeDeadLetter(message));
  });
}

export interface RequeueResult {
  requeued: DeadLetter[];
  failed: Array<{ letter: DeadLetter; error: string }>;
}

/**
 * Puts up to `limit` dead letters back on `xfc` with their original routing key and without the death headers;
 * each is removed from xfc.dead only after the broker confirmed the re-published copy. The bridge validates them
 * again, so a message that is still bad comes straight back.
 */
export async function requeueDeadLetters(amqpUrl: string, options: DeadLetterOptions): Promise<RequeueResult> {
  return withConnection(amqpUrl, async (connection) => {
    const channel = await connection.createConfirmChannel();
    await declareTopology(channel, options.topology);
    const publish = confirmedPublisher(channel, { timeoutMs: 30_000 });
    const result: RequeueResult = { requeued: [], failed: [] };
    for (const message of await fetchUnacked(channel, options.limit)) {
      const letter = describeDeadLetter(message);
      try {
        if (message.properties.headers?.[originalSizeHeader] !== undefined) {
          throw new Error('its body was truncated when it was dead-lettered (it was too large)');
        }
        await publish(mainExchange, message.fields.routingKey, message.content, {
          ...publishProperties(message.properties),
          headers: withoutDeathHeaders(message.properties.headers),
          persistent: true,
        });
        channel.ack(message);
        result.requeued.push(letter);
      } catch (err) {
        channel.nack(message, false, true);
        result.failed.push({ letter, error: errorMessage(err) });
      }
    }
    await channel.close();
    return result;
  });
}

async function fetchUnacked(
  channel: { get(queue: string, options?: Options.Get): Promise<GetMessage | false> },
  limit: number,
): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  while (messages.length < limit) {
    const message = await channel.get(deadQueue, { noAck: false });
    if (message === false) break;
    messages.push(message);
  }
  return messages;
}

async function withConnection<T>(amqpUrl: string, run: (connection: ChannelModel) => Promise<T>): Promise<T> {
  const connection = await connectAmqp(amqpUrl, 'dead-letters');
  try {
    return await run(connection);
  } finally {
    await closeQuietly(connection);
  }
}

/** The properties worth carrying over when a message is re-published (not the delivery-specific ones). */
function publishProperties(properties: MessageProperties): Options.Publish {
  const out: Options.Publish = {};
  if (typeof properties.contentType === 'string') out.contentType = properties.contentType;
  if (typeof properties.contentEncoding === 'string') out.contentEncoding = properties.contentEncoding;
  if (typeof properties.correlationId === 'string') out.correlationId = properties.correlationId;
  if (typeof properties.messageId === 'string') out.messageId = properties.messageId;
  if (typeof properties.type === 'string') out.type = properties.type;
  if (typeof properties.appId === 'string') out.appId = properties.appId;
  if (typeof properties.timestamp === 'number') out.timestamp = properties.timestamp;
  return out;
}

function withoutDeathHeaders(headers: MessageProperties['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(headers ?? {}) };
  for (const name of deathHeaders) delete out[name];
  return out;
}

function stringOrNull(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
