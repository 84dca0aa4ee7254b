import type { Message } from 'amqplib';
import type { ZodError } from 'zod';
import { messageTypes, type MessageBody, type MessageType } from '../messages/v1/index.js';
import { maxBodyBytes } from './topology.js';
import { errorMessage } from '../common/errors.js';

/**
 * Turns a delivery into a validated message, or says why it cannot be one. Pure: the bridge dead-letters what
 * this refuses, and the contract tests run the documented examples through it.
 */

/** Machine-readable reasons, carried in the `x-xfc-dead-reason` header of a dead-lettered message. */
export type RejectReason = 'too-large' | 'not-json' | 'unknown-type' | 'unsupported-version' | 'invalid-message';

export type DecodedMessage = {
  [T in MessageType]: { ok: true; type: T; body: MessageBody<T> };
}[MessageType];

export interface RejectedMessage {
  ok: false;
  reason: RejectReason;
  /** What was wrong, in words, for the header `x-xfc-dead-detail` and the logs. */
  detail: string;
}

const jsonContentTypes = new Set(['application/json', 'text/json']);

/**
 * The message type comes from the AMQP `type` property, or from the routing key when a publisher left it out; it
 * must be one that `accepted` lists (the types the queue is bound for).
 */
export function decodeMessage(
  message: Pick<Message, 'content' | 'properties'> & { fields: Pick<Message['fields'], 'routingKey'> },
  accepted: readonly MessageType[],
  limit: number = maxBodyBytes,
): DecodedMessage | RejectedMessage {
  const { content, properties, fields } = message;
  if (content.length > limit) {
    return reject('too-large', `body of ${content.length} bytes exceeds the limit of ${limit} bytes`);
  }
  const declared = typeof properties.type === 'string' && properties.type !== '' ? properties.type : undefined;
  const type = declared ?? fields.routingKey;
  if (!(accepted as readonly string[]).includes(type)) {
    return reject(
      'unknown-type',
      `type ${JSON.stringify(type)}${declared ? '' : ' (from the routing key)'} is not one of ${accepted.join(', ')}`,
    );
  }
  const contentType = typeof properties.contentType === 'string' ? properties.contentType : undefined;
  if (contentType && !jsonContentTypes.has(contentType.split(';')[0]!.trim().toLowerCase())) {
    return reject('not-json', `content_type is ${JSON.stringify(contentType)}, not application/json`);
  }
  if (properties.contentEncoding && properties.contentEncoding !== 'utf-8' && properties.contentEncoding !== 'utf8') {
    return reject('not-json', `content_encoding ${JSON.stringify(properties.contentEncoding)} is not supported`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (err) {
    return reject('not-json', `body is not UTF-8 JSON: ${errorMessage(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('not-json', 'body is JSON but not an object');
  }
  const version = (parsed as { version?: unknown }).version;
  if (version !== undefined && version !== 1) {
    return reject('unsupported-version', `version ${JSON.stringify(version)}; this xfc understands version 1`);
  }
  const result = messageTypes[type as MessageType].safeParse(parsed);
  if (!result.success) return reject('invalid-message', `${type}: ${describeZodError(result.error)}`);
  return { ok: true, type, body: result.data } as DecodedMessage;
}

/** The first few problems of a failed validation as "field: problem; …". */
export function describeZodError(error: ZodError, max = 5): string {
  const problems = error.issues.slice(0, max).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(body)';
    return `${path}: ${issue.message}`;
  });
  if (error.issues.length > max) problems.push(`and ${error.issues.length - max} more`);
  return problems.join('; ');
}

function reject(reason: RejectReason, detail: string): RejectedMessage {
  return { ok: false, reason, detail };
}
