import { randomBytes } from 'node:crypto';

/** RabbitMQ's management API (the plugin is enabled by .ci/run) and the AMQP endpoint used by tests. */
const managementUrl = process.env.XFC_TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const amqpBase = process.env.XFC_TEST_AMQP_BASE_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface TestVhost {
  name: string;
  /** AMQP URL whose path selects the test's own vhost. */
  url: string;
  delete(): Promise<void>;
}

/** Calls the management API; the credentials come from the URL's user info. */
export async function management(method: string, path: string, body?: unknown): Promise<Response> {
  const base = new URL(managementUrl);
  const auth = Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString(
    'base64',
  );
  const url = new URL(path, `${base.protocol}//${base.host}`);
  const response = await fetch(url, {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  }).catch((err: unknown) => {
    throw new Error(
      `RabbitMQ's management API at ${url.origin} did not answer (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}). ` +
        'Tests and fault scenarios need it: enable it with `rabbitmq-plugins enable rabbitmq_management` ' +
        '(.ci/run does), or point XFC_TEST_RABBITMQ_MANAGEMENT_URL at it.',
      { cause: err },
    );
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

/** A vhost of its own for one test file, so tests never see each other's queues. */
export async function createTestVhost(prefix = 'xfc-test'): Promise<TestVhost> {
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  const encoded = encodeURIComponent(name);
  await management('PUT', `/api/vhosts/${encoded}`, {});
  const user = decodeURIComponent(new URL(managementUrl).username);
  await management('PUT', `/api/permissions/${encoded}/${encodeURIComponent(user)}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  return {
    name,
    url: `${amqpBase}/${encoded}`,
    delete: async () => {
      await management('DELETE', `/api/vhosts/${encoded}`);
    },
  };
}

/** Closes every client connection to a vhost from the broker side, as a broker restart or a network cut would. */
export async function closeConnections(vhost: string): Promise<number> {
  const response = await management('GET', `/api/vhosts/${encodeURIComponent(vhost)}/connections`);
  const connections = (await response.json()) as Array<{ name: string }>;
  for (const connection of connections) {
    await management('DELETE', `/api/connections/${encodeURIComponent(connection.name)}`);
  }
  return connections.length;
}
