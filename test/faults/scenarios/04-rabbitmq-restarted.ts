import { workflowTypes } from '../../../lib/temporal/names.js';
import { putOverQuota, registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import { executions, outstandingRequests, scansPerUser, until } from '../harness/observe.js';
import { jsonLines, sleep } from '../harness/processes.js';
import {
  describeLedger,
  ledger,
  ledgerChecks,
  startSweep,
  waitUntilScanned,
  type Ledger,
} from '../harness/pipeline.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { restartBroker } from '../harness/services.js';
import { startFaultStack, type FaultStack } from '../harness/stack.js';

export interface RabbitRestartMeasured {
  /** Messages in the two queues when the broker stopped (ready, or held unacknowledged by the frozen bridge). */
  requestsInFlight: number;
  completionsInFlight: number;
  unavailableMs: number;
  /** From the broker being back to every user recorded. */
  drainedAfterMs: number;
  bridgeConnections: number;
  ledger: Ledger;
  processesAlive: boolean;
}

/**
 * 4. The real RabbitMQ broker is stopped (`rabbitmqctl stop_app`) and started again while scan requests and scan
 * results wait in its queues: a first sweep's scans are completing, and a second sweep has just published its
 * requests while the bridge was held (frozen), so both queues hold messages, some unacknowledged. Nothing may be
 * lost and nothing doubled: every user scanned and recorded once, one application per scan, one email per
 * over-quota user, nothing dead-lettered, and the bridge, workers and publishers reconnect by themselves.
 *
 * This restarts the broker of the whole machine: every other client of it is disconnected too.
 */
export const rabbitmqRestarted: Scenario<RabbitRestartMeasured> = {
  id: 4,
  name: 'RabbitMQ restarted with requests and completions in flight',
  async run({ quick, note = () => undefined }) {
    const waves = quick ? 12 : 30;
    const downMs = quick ? 2_000 : 15_000;
    const stack = await startFaultStack({ smtp: true });
    const checks = new Checks();
    try {
      const users = Array.from({ length: 2 * waves }, (_, i) => `user${String(i).padStart(3, '0')}`);
      const overQuota = users.filter((_, i) => i % 5 === 0);
      writeSmallTrees(stack.root, 'vol1', users);
      await registerUsers(stack.pool, stack.root, users);
      await putOverQuota(stack.pool, overQuota);
      const processes = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      const [, bridge, scanWorker] = processes;
      const release = scanWorker.throttle(5);

      // Wave 1: scans under way, some done.
      await startSweep(stack, waves);
      await until(
        'a few scans of the first wave to be recorded',
        async () => [...(await scansPerUser(stack.pool)).values()].length >= 3,
        120_000,
      );
      // Wave 2: requests published while the bridge is held, so they wait in RabbitMQ with wave 1's results.
      bridge.freeze();
      const frozenAt = new Date();
      const second = await startSweep(stack, waves);
      // With the bridge frozen nothing is acknowledged, so the broker holds every request of the second sweep, and
      // every result a scan published since (counted from Temporal). The scans apply their results themselves, inside
      // Temporal: the queued results are what other consumers of xfc.scan.completed would read.
      const requestsInFlight = (await second.result()).published;
      // Give the scans still running a moment to add their results to the queue.
      const completionsInFlight = await until(
        'a few results to wait in RabbitMQ',
        async () => {
          const waiting = await resultsPublishedSince(stack, frozenAt);
          return waiting >= 3 ? waiting : undefined;
        },
        30_000,
        500,
      ).catch(() => resultsPublishedSince(stack, frozenAt));
      note(`restarting RabbitMQ with ${requestsInFlight} requests and ${completionsInFlight} results queued`);
      let restart: { unavailableMs: number } = { unavailableMs: 0 };
      try {
        restart = await restartBroker(downMs);
      } finally {
        bridge.resume();
      }
      release();
      const upAt = Date.now();
      note(`broker back after ${seconds(restart.unavailableMs)}`);

      await waitUntilScanned(stack, users, 240_000);
      const drainedAfterMs = Date.now() - upAt;
      // Let redeliveries and retries settle before counting.
      await until(
        'no request to remain outstanding',
        async () => (await outstandingRequests(stack.pool)) === 0,
        60_000,
      );
      await sleep(3_000);
      const entry = await ledger(stack, users, overQuota);
      for (const check of ledgerChecks(entry)) checks.expect(check.what, check.ok, check.detail);
      checks.expect(
        'messages were in flight in both queues at the restart',
        requestsInFlight > 0 && completionsInFlight > 0,
        `${requestsInFlight} requests, ${completionsInFlight} results`,
      );
      const bridgeConnections = jsonLines(bridge.output()).filter((l) => l.event === 'amqp.consuming').length;
      checks.expect('the bridge reconnected', bridgeConnections >= 2, `${bridgeConnections} connections`);
      const processesAlive = processes.every((p) => p.alive());
      checks.expect(
        'no process exited',
        processesAlive,
        processes.map((p) => `${p.role} ${p.alive() ? 'running' : 'exited'}`).join(', '),
      );
      return {
        summary:
          `broker down ${seconds(restart.unavailableMs)} with ${requestsInFlight} requests and ${completionsInFlight} ` +
          `results queued; all recorded ${seconds(drainedAfterMs)} after it was back; ${describeLedger(entry)}; ` +
          `bridge connected ${bridgeConnections}×`,
        checks: checks.list,
        measured: {
          requestsInFlight,
          completionsInFlight,
          unavailableMs: restart.unavailableMs,
          drainedAfterMs,
          bridgeConnections,
          ledger: entry,
          processesAlive,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};

/** Scans that ended (and so published their result) since `since`: with the bridge frozen, their results wait. */
async function resultsPublishedSince(stack: FaultStack, since: Date): Promise<number> {
  const ended = await executions(
    stack.client,
    `WorkflowType = "${workflowTypes.scanUser}" AND (ExecutionStatus = "Completed" OR ExecutionStatus = "Failed") AND CloseTime >= "${since.toISOString()}"`,
  );
  return ended.length;
}
