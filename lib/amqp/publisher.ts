import type { ChannelModel } from 'amqplib';
import { messageTypes, type MessageBody, type MessageType } from '../messages/v1/index.js';
import { confirmedPublisher, PublishError, type ConfirmedPublish } from './confirm.js';
import { closeQuietly, connectAmqp } from './connection.js';
import { describeZodError } from './decode.js';
import { silentLogger, type Logger } from './log.js';
import { messageIdOf } from './message-id.js';
import { signatureHeader, signedTypes, signResult } from './signature.js';
import { declareTopology, mainExchange, maxBodyBytes, routingKeyFor, type TopologyMode } from './topology.js';
import { errorMessage } from '../common/errors.js';

export { PublishError } from './confirm.js';

/**
 * Publishes xfc messages on a confirm channel (docs/design.md §5): validated, JSON, persistent, mandatory, with a
 * deterministic messageId. `publish` resolves only once the broker confirmed a routed message; a nack, a return,
 * a closed channel or a missing confirm reject it with PublishError, so a Temporal activity that calls it is
 * retried. An invalid body rejects with InvalidMessageError, which no retry can fix.
 *
 * Create one per process and share it: it keeps one connection, opened on the first publish and re-opened on the
 * next publish after it dropped.
 */
export interface Publisher {
  publish<T extends MessageType>(type: T, body: MessageBody<T>, options?: PublishOptions): Promise<void>;
  close(): Promise<void>;
}

export interface PublishOptions {
  /**
   * Defaults to the deterministic id of the body (requestId or scanId, see message-id.ts), which is what xfc itself
   * always sends; an explicit id is for tests that play another publisher (forged or duplicated messages).
   */
  messageId?: string;
}

export interface PublisherOptions {
  /** Shown in the broker's connection list. */
  role?: string;
  /** Declare the topology on connecting (default) or only check that it exists. */
  topology?: TopologyMode;
  /** How long to wait for the broker's confirm before giving up and re-opening the connection. */
  confirmTimeoutMs?: number;
  logger?: Logger;
  /** Signs scan results (XFC_RESULT_SIGNING_KEY) so the bridge can authenticate them; see signature.ts. */
  signingKey?: string | undefined;
}

/** The body does not satisfy its schema: retrying cannot help (make the activity failure non-retryable). */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

interface Session {
  connection: ChannelModel;
  publish: ConfirmedPublish;
}

export function createPublisher(amqpUrl: string, options: PublisherOptions = {}): Publisher {
  const log = options.logger ?? silentLogger;
  let session: Promise<Session> | undefined;
  let closed = false;

  function open(): Promise<Session> {
    if (session) return session;
    const opening: Promise<Session> = openSession(() => {
      if (session === opening) session = undefined;
    });
    session = opening;
    opening.catch(() => {
      if (session === opening) session = undefined;
    });
    return opening;
  }

  /** `forget` is called once the connection or channel is gone, so that the next publish opens a new one. */
  async function openSession(forget: () => void): Promise<Session> {
    const connection = await connectAmqp(amqpUrl, options.role ?? 'publisher');
    try {
      connection.on('error', (err: Error) => log('warn', 'amqp.connection-error', { error: err.message }));
      connection.on('close', forget);
      const channel = await connection.createConfirmChannel();
      channel.on('error', (err: Error) => log('warn', 'amqp.channel-error', { error: err.message }));
      channel.on('close', () => {
        forget();
        void closeQuietly(connection); // a connection without its channel is of no use to us
      });
      // The publisher declares the topology too, so a message is routable even before the bridge first ran.
      await declareTopology(channel, options.topology ?? 'declare');
      const publish = confirmedPublisher(channel, {
        timeoutMs: options.confirmTimeoutMs ?? 30_000,
        // The channel's state is unknown after a lost confirm: start afresh on the next publish.
        onTimeout: () => void closeQuietly(connection),
      });
      return { connection, publish };
    } catch (err) {
      await closeQuietly(connection);
      throw err;
    }
  }

  return {
    async publish(type, body, publishOptions = {}) {
      if (closed) throw new PublishError('the publisher is closed');
      const parsed = messageTypes[type].safeParse(body);
      if (!parsed.success) throw new InvalidMessageError(`invalid ${type} message: ${describeZodError(parsed.error)}`);
      const content = Buffer.from(JSON.stringify(parsed.data));
      if (content.length > maxBodyBytes) {
        throw new InvalidMessageError(`${type} message of ${content.length} bytes exceeds ${maxBodyBytes} bytes`);
      }
      const messageId = publishOptions.messageId ?? messageIdOf(type, body);
      const signature =
        options.signingKey !== undefined && signedTypes.includes(type)
          ? { headers: { [signatureHeader]: signResult(options.signingKey, type, content) } }
          : {};
      const { publish, connection } = await open();
      try {
        await publish(mainExchange, routingKeyFor(type), content, {
          persistent: true,
          messageId,
          type,
          contentType: 'application/json',
          timestamp: Math.floor(Date.now() / 1000),
          appId: 'xfc',
          ...signature,
        });
      } catch (err) {
        // Start the next publish on a fresh connection: RabbitMQ 3.10 channels keep refusing publishes to a quorum
        // queue that once refused one (reject-publish), even after the queue has room again.
        log('warn', 'amqp.publish-failed', { type, messageId, error: errorMessage(err) });
        void closeQuietly(connection);
        throw err;
      }
      log('info', 'amqp.published', { type, messageId, username: (parsed.data as { username: string }).username });
    },

    async close() {
      closed = true;
      const current = session;
      session = undefined;
      const opened = await current?.catch(() => undefined);
      await closeQuietly(opened?.connection);
    },
  };
}
