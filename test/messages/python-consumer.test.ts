import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createPublisher } from '../../lib/amqp/publisher.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { exampleMessage } from './examples.js';

/** Debian's python3, which has python3-pika (a pyenv python3 earlier on PATH may not). */
const python = '/usr/bin/python3';

describe('the example Python consumer (docs/examples/consume_results.py) against the real broker', () => {
  let vhost: TestVhost;
  before(async () => {
    vhost = await createTestVhost('xfc-python');
  });
  after(async () => {
    await vhost.delete();
  });

  it('receives scan.completed and scan.failed as xfc publishes them, reading byte figures exactly', async () => {
    const publisher = createPublisher(vhost.url, { role: 'test' }); // declares xfc's topology
    const completed = { ...exampleMessage('scan.completed'), scanId: 'py-1' };
    completed.totals = { ...completed.totals, bytes: '9007199254740993' }; // 2^53 + 1: a float would lose the 1
    const failed = { ...exampleMessage('scan.failed'), scanId: 'py-2' };
    // The queue must exist before the messages are routed: start the consumer, wait for "ready", then publish.
    await publisher.publish('scan.request', exampleMessage('scan.request')); // declares the topology
    const consumer = spawn(python, ['docs/examples/consume_results.py', '--url', vhost.url, '--count', '2']);
    let stdout = '';
    let stderr = '';
    consumer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve) =>
      consumer.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.startsWith('ready\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => consumer.once('exit', resolve));
    await Promise.race([ready, exited]);
    await publisher.publish('scan.completed', completed);
    await publisher.publish('scan.failed', failed);
    await publisher.close();
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'ready');
    assert.match(
      lines[1] ?? '',
      new RegExp(`^${completed.username}: ${completed.status} scan py-1, 9007199254740993 bytes, `),
    );
    assert.equal(lines[2], `${failed.username}: failed scan py-2 (${failed.reason}): ${failed.message}`);
  });
});
