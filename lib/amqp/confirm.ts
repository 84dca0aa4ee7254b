import type { ConfirmChannel, Message, Options } from 'amqplib';
import { errorMessage } from '../common/errors.js';

/** The broker did not take the message (nack, unroutable, channel closed, no confirm in time): retry later. */
export class PublishError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}

export type ConfirmedPublish = (
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
) => Promise<void>;

/**
 * Publishes on a confirm channel with `mandatory` and resolves only when the broker confirmed a routed message.
 * RabbitMQ sends basic.return before the confirm of the same publish; a return is matched to the oldest pending
 * publish with its message id. Publishes that share an id share their routing key (the id is derived from the
 * message, the key from its type), so they are routable or not alike and the match cannot mislead.
 */
export function confirmedPublisher(
  channel: ConfirmChannel,
  options: { timeoutMs: number; onTimeout?: () => void },
): ConfirmedPublish {
  const pending: Array<{ messageId: string; returned: boolean }> = [];
  channel.on('return', (message: Message) => {
    const id = String(message.properties.messageId);
    const entry = pending.find((p) => p.messageId === id && !p.returned);
    if (entry) entry.returned = true;
  });
  return async (exchange, routingKey, content, publishOptions) => {
    const entry = { messageId: String(publishOptions.messageId), returned: false };
    const what = `message ${publishOptions.messageId ?? '(no id)'} to ${exchange || '(default)'}/${routingKey}`;
    pending.push(entry);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new PublishError(`no confirm from RabbitMQ within ${options.timeoutMs} ms for ${what}`));
          options.onTimeout?.();
        }, options.timeoutMs);
        try {
          channel.publish(exchange, routingKey, content, { ...publishOptions, mandatory: true }, (err: unknown) => {
            clearTimeout(timer);
            if (err) reject(new PublishError(`RabbitMQ did not accept ${what}: ${errorMessage(err)}`));
            else if (entry.returned) reject(new PublishError(`${what} is unroutable: no queue is bound for it`));
            else resolve();
          });
        } catch (err) {
          clearTimeout(timer);
          reject(new PublishError(`cannot publish ${what}: ${errorMessage(err)}`, { cause: err }));
        }
      });
    } finally {
      pending.splice(pending.indexOf(entry), 1);
    }
  };
}
