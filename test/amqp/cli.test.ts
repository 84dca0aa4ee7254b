import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createPublisher } from '../../lib/amqp/publisher.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { startTestTemporal, type TestTemporal } from '../support/temporal.js';
import { exampleMessage } from '../messages/examples.js';
import { mainExchange } from '../../lib/amqp/topology.js';
import amqp from 'amqplib';

const runner = fileURLToPath(new URL('./fixtures/xfc-messaging.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `xfc <args>`; `until` (optional) is called with each stdout chunk and may send the process a signal. */
function xfc(
  args: string[],
  env: Record<string, string>,
  until?: (stdout: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      until?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('xfc amqp and xfc bridge (processes)', () => {
  let vhost: TestVhost;
  let temporal: TestTemporal;
  let env: Record<string, string>;

  before(async () => {
    [vhost, temporal] = await Promise.all([createTestVhost('xfc-cli'), startTestTemporal()]);
    env = { XFC_AMQP_URL: vhost.url, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace };
  });
  after(async () => {
    await temporal.stop();
    await vhost.delete();
  });

  it('xfc amqp setup declares and prints the topology, twice without error', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await xfc(['amqp', 'setup'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /exchange xfc \(topic, durable\)/);
      assert.match(
        run.stdout,
        /queue xfc\.scan\.completed ← xfc \[scan\.completed, scan\.failed\] x-queue-type=quorum x-delivery-limit=50/,
      );
      assert.match(run.stdout, /queue xfc\.dead ← xfc\.dlx \[\(all\)\]/);
      assert.doesNotMatch(run.stdout, /guest:guest/, 'the password is not printed');
    }
  });

  it('xfc amqp setup says what to do when RabbitMQ is unreachable', async () => {
    const run = await xfc(['amqp', 'setup'], { XFC_AMQP_URL: 'amqp://guest:secret@127.0.0.1:1/' });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /cannot connect to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1\/.*Start RabbitMQ or set XFC_AMQP_URL/,
    );
  });

  it('xfc bridge dead-letters a poison message, which xfc amqp dead lists and --requeue sends back; SIGTERM stops it', async () => {
    const connection = await amqp.connect(vhost.url);
    const channel = await connection.createConfirmChannel();
    channel.publish(mainExchange, 'scan.request', Buffer.from('{"version": 1, "username": "../etc"'), {
      messageId: 'poison-cli',
    });
    await channel.waitForConfirms();
    await connection.close();

    let signalled = false;
    const bridge = await xfc(['bridge', '--prefetch', '2'], env, (stdout, kill) => {
      if (!signalled && stdout.includes('"event":"message.dead-lettered"')) {
        signalled = true;
        kill('SIGTERM');
      }
    });
    assert.equal(bridge.code, 0, bridge.stderr);
    const events = bridge.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; prefetch?: number; messageId?: string; reason?: string });
    assert.equal(events.find((e) => e.event === 'amqp.consuming')?.prefetch, 2);
    assert.deepEqual(
      events.filter((e) => e.event === 'message.dead-lettered').map((e) => [e.messageId, e.reason]),
      [['poison-cli', 'not-json']],
    );
    assert.equal(events.at(-1)?.event, 'bridge.stopped');

    const listed = await xfc(['amqp', 'dead', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const letters = JSON.parse(listed.stdout) as Array<{ messageId: string; reason: string; preview: string }>;
    assert.deepEqual(
      letters.map((l) => [l.messageId, l.reason, l.preview]),
      [['poison-cli', 'not-json', '{"version": 1, "username": "../etc"']],
    );
    const table = await xfc(['amqp', 'dead'], env);
    assert.match(table.stdout, /^#\s+type\s+message id\s+reason/);
    assert.match(table.stdout, /poison-cli\s+not-json\s+xfc/);

    const requeued = await xfc(['amqp', 'dead', '--requeue'], env);
    assert.equal(requeued.code, 0, requeued.stderr);
    assert.match(requeued.stdout, /Requeued 1 message\(s\) to xfc\./);
    const empty = await xfc(['amqp', 'dead'], env);
    assert.match(empty.stdout, /xfc\.dead is empty\./);
    // It is back in xfc.scan.request for the bridge to judge again.
    const check = await amqp.connect(vhost.url);
    const queue = await (await check.createChannel()).checkQueue('xfc.scan.request');
    await check.close();
    assert.equal(queue.messageCount, 1);
  });

  it('a valid request published while no bridge runs is started by the next one', async () => {
    const publisher = createPublisher(vhost.url);
    await publisher.publish('scan.request', {
      ...exampleMessage('scan.request'),
      requestId: 'manual-cli',
      username: 'henry',
    });
    await publisher.close();
    let signalled = false;
    const bridge = await xfc(['bridge'], env, (stdout, kill) => {
      if (!signalled && /"event":"(workflow\.started|message\.retry-later)".*"messageId":"manual-cli"/.test(stdout)) {
        signalled = true;
        kill('SIGINT');
      }
    });
    assert.equal(bridge.code, 0, bridge.stderr);
    assert.match(bridge.stdout, /"event":"workflow\.started".*"username":"henry".*"workflowId":"scan-henry"/);
  });
});
