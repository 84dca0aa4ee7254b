import { randomUUID } from 'node:crypto';
import { UsageError, UserError } from '../common/errors.js';
import { usernameProblem } from '../common/username.js';
import type { XfcConfig } from '../config/env.js';
import type { ScanRequest } from '../messages/v1/index.js';
import { AmqpConnectError } from './connection.js';
import { scanRequestMessageId } from './message-id.js';
import { createPublisher } from './publisher.js';
import { xfcCommand } from '../common/invocation.js';

/**
 * Publishes one scan.request, as the sweep does, instead of starting the scan directly: what `xfc workflow start
 * scan --via-queue` and other systems do. Resolves once the broker confirmed it; the bridge then starts
 * `scan-<username>` (or joins the scan already running). Whether the user exists is the scan's business.
 */
export async function requestScanViaQueue(
  config: Pick<XfcConfig, 'amqpUrl'>,
  username: string,
  reason: ScanRequest['reason'] = 'manual',
): Promise<{ requestId: string; messageId: string }> {
  const problem = usernameProblem(username);
  if (problem !== undefined) throw new UsageError(`The username ${JSON.stringify(username)} ${problem}.`);
  const request: ScanRequest = {
    version: 1,
    requestId: `${reason}-${randomUUID()}`,
    username,
    reason,
    requestedAt: new Date().toISOString(),
  };
  const publisher = createPublisher(config.amqpUrl, { role: 'cli' });
  try {
    await publisher.publish('scan.request', request);
  } catch (err) {
    if (err instanceof AmqpConnectError) {
      throw new UserError(`${err.message}. Start RabbitMQ (\`${xfcCommand('dev')}\` needs it) or set XFC_AMQP_URL.`);
    }
    throw err;
  } finally {
    await publisher.close();
  }
  return { requestId: request.requestId, messageId: scanRequestMessageId(request) };
}
