import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MessageType } from '../messages/v1/index.js';

/**
 * Results published on RabbitMQ are signed, so the bridge can tell xfc's own from anyone else's (docs/design.md §5: a
 * result from outside is applied only when authenticated).
 *
 * Why an HMAC rather than RabbitMQ's validated `user_id` property: the signature travels with the message, so it
 * survives dead-lettering and `xfc amqp dead --requeue` (re-published under the operator's account, which would
 * change a user_id) and is checked again, as new, every time; it covers the body, not just who sent it; and it
 * does not depend on every broker in the path enforcing user_id. The key (XFC_RESULT_SIGNING_KEY) is held by the
 * control worker, which publishes results, and the bridge, which checks them; no other publisher has it.
 */
export const signatureHeader = 'x-xfc-signature';

/** Message types that carry results and must be signed. */
export const signedTypes: readonly MessageType[] = ['scan.completed', 'scan.failed'];

/** `v1=<hex HMAC-SHA256 over "xfc:<type>\n" and the body bytes>`. */
export function signResult(key: string, type: MessageType, body: Buffer): string {
  return `v1=${mac(key, type, body).toString('hex')}`;
}

/** True when `header` is a valid signature of this type and body under `key`. */
export function verifyResultSignature(key: string, type: MessageType, body: Buffer, header: unknown): boolean {
  const text = typeof header === 'string' ? header : Buffer.isBuffer(header) ? header.toString('utf8') : undefined;
  const match = text === undefined ? null : /^v1=([0-9a-f]{64})$/.exec(text);
  if (!match) return false;
  return timingSafeEqual(Buffer.from(match[1]!, 'hex'), mac(key, type, body));
}

function mac(key: string, type: MessageType, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`xfc:${type}\n`).update(body).digest();
}
