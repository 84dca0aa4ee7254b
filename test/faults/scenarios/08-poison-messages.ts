import amqp from 'amqplib';
import { sql } from 'slonik';
import { z } from 'zod';
import { listDeadLetters, type DeadLetter } from '../../../lib/amqp/dead-letters.js';
import { requestScanViaQueue } from '../../../lib/amqp/requests.js';
import { mainExchange } from '../../../lib/amqp/topology.js';
import { applyWorkflowId, scanWorkflowId } from '../../../lib/temporal/names.js';
import type { ApplyScanResult } from '../../../lib/temporal/contracts.js';
import { registerUsers, writeSmallTrees } from '../harness/fixtures.js';
import { activityAttempts, executions, historyOf, scanRows, until } from '../harness/observe.js';
import { jsonLines, sleep } from '../harness/processes.js';
import { Checks, seconds, type Scenario } from '../harness/scenario.js';
import { startFaultStack } from '../harness/stack.js';
import { scanResult } from '../../../lib/temporal/scan-result.js';

interface Poison {
  name: string;
  routingKey: string;
  body: Buffer;
  /** The reason xfc.dead must give. */
  reason: string;
}

export interface PoisonMeasured {
  /** Poison name → the reason it was dead-lettered with (or "missing"). */
  deadLettered: Record<string, string>;
  unknownUser: {
    result: string;
    reason: string | undefined;
    scanRuns: number;
    activityRetries: number;
    /** From publishing its request to its scan.failed being applied. */
    failedAfterMs: number;
    requestRecorded: boolean;
    applied: boolean | undefined;
  };
  bridgeRetries: number;
  normalScanRecorded: boolean;
  processesAlive: boolean;
}

const now = new Date().toISOString();
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function poisons(): Poison[] {
  const request = { version: 1, requestId: 'poison', username: 'normal', reason: 'manual', requestedAt: now };
  return [
    {
      name: 'bad JSON',
      routingKey: 'scan.request',
      body: Buffer.from('{"version":1,"requestId":'),
      reason: 'not-json',
    },
    {
      name: 'huge body (2 MiB)',
      routingKey: 'scan.request',
      body: json({ ...request, requestId: 'poison-huge', padding: 'x'.repeat(2 * 1024 * 1024) }),
      reason: 'too-large',
    },
    {
      name: 'unknown version',
      routingKey: 'scan.request',
      body: json({ ...request, version: 2, requestId: 'poison-v2' }),
      reason: 'unsupported-version',
    },
    {
      name: 'username ../etc',
      routingKey: 'scan.request',
      body: json({ ...request, requestId: 'poison-dotdot', username: '../etc' }),
      reason: 'invalid-message',
    },
    {
      name: 'scan.completed missing its totals',
      routingKey: 'scan.completed',
      body: json({ version: 1, scanId: 'poison-result', requestId: 'poison', username: 'normal', status: 'complete' }),
      reason: 'invalid-message',
    },
  ];
}

/**
 * 8. Messages that can never be processed — not JSON, too large, a version this xfc does not speak, a username that
 * is a path, a result without its figures — go to xfc.dead with the reason, once, without retries. A request for a
 * well-formed name with no database row is not poison: its scan ends at once as scan.failed (unknown-user), which
 * is applied, without a retry loop. Afterwards a normal request is processed as usual.
 */
export const poisonMessages: Scenario<PoisonMeasured> = {
  id: 8,
  name: 'poison messages',
  async run({ note = () => undefined }) {
    const stack = await startFaultStack();
    const checks = new Checks();
    try {
      writeSmallTrees(stack.root, 'vol1', ['normal']);
      await registerUsers(stack.pool, stack.root);
      const processes = await Promise.all([stack.start('control'), stack.start('bridge'), stack.start('scan')]);
      const bridge = processes[1];

      const list = poisons();
      note(`publishing ${list.length} poison messages and a request for an unknown user`);
      const connection = await amqp.connect(stack.config.amqpUrl);
      const channel = await connection.createConfirmChannel();
      for (const poison of list) {
        channel.publish(mainExchange, poison.routingKey, poison.body, {
          persistent: true,
          contentType: 'application/json',
          messageId: `poison-${poison.name}`,
          type: poison.routingKey,
        });
      }
      await channel.waitForConfirms();
      await connection.close();
      const unknownPublishedAt = Date.now();
      const { requestId: ghostRequest } = await requestScanViaQueue(stack.config, 'ghost');

      const dead = await until(
        `${list.length} messages in xfc.dead`,
        async () => {
          const letters = await listDeadLetters(stack.config.amqpUrl, { limit: 100 });
          return letters.length >= list.length ? letters : undefined;
        },
        60_000,
      );
      const deadLettered: Record<string, string> = {};
      for (const poison of list) {
        const letter = dead.find((l: DeadLetter) => l.messageId === `poison-${poison.name}`);
        deadLettered[poison.name] = letter?.reason ?? 'missing';
        checks.equal(`${poison.name} → xfc.dead (${poison.reason})`, letter?.reason, poison.reason);
      }

      const ghost = stack.client.workflow.getHandle(scanWorkflowId('ghost'));
      const ghostResult = await until(
        'the unknown user’s scan to end',
        () => scanResult(ghost).catch(() => undefined),
        60_000,
      );
      const ghostScanId = ghostResult.type === 'scan.failed' ? ghostResult.message.scanId : undefined;
      const applied = ghostScanId
        ? ((await stack.client.workflow.getHandle(applyWorkflowId(ghostScanId)).result()) as ApplyScanResult)
        : undefined;
      const failedAfterMs = Date.now() - unknownPublishedAt;
      const requestRecorded =
        (
          await stack.pool.maybeOne(sql.type(z.object({ scanId: z.string() }))`
          SELECT scan_id AS "scanId" FROM xfc_scan_request WHERE request_id = ${ghostRequest}`)
        )?.scanId === ghostScanId;

      note('a normal request afterwards');
      await requestScanViaQueue(stack.config, 'normal');
      const normal = await until(
        'the normal request to be processed',
        async () => {
          const rows = await scanRows(stack.pool, 'normal');
          return rows.length > 0 ? rows : undefined;
        },
        60_000,
      );
      await sleep(3_000); // a retry loop would show by now
      const ghostRuns = await executions(stack.client, `WorkflowId = "${scanWorkflowId('ghost')}"`);
      const retries = activityAttempts(await historyOf(stack.client, ghost.workflowId)).retries;
      const lines = jsonLines(bridge.output());
      const bridgeRetries = lines.filter((l) => l.event === 'message.retry-later').length;
      const deadAgain = (await listDeadLetters(stack.config.amqpUrl, { limit: 100 })).length;

      const reason = ghostResult.type === 'scan.failed' ? ghostResult.message.reason : undefined;
      checks.equal('unknown user: the scan ends as scan.failed', ghostResult.type, 'scan.failed');
      checks.equal('unknown user: reason unknown-user', reason, 'unknown-user');
      checks.expect(
        'unknown user: not dead-lettered, one run, no activity retried',
        ghostRuns.length === 1 && retries === 0 && !dead.some((l) => l.messageId === ghostRequest),
        `${ghostRuns.length} run(s), ${retries} retries`,
      );
      checks.expect(
        'unknown user: the failure is applied and the request recorded',
        applied !== undefined && requestRecorded,
        `applyScan ${applied ? `ran (applied ${applied.applied})` : 'missing'}, request ${requestRecorded ? 'in' : 'not in'} xfc_scan_request`,
      );
      checks.equal('each poison dead-lettered once (no redelivery loop)', deadAgain, list.length);
      checks.equal('the bridge retried nothing', bridgeRetries, 0);
      checks.equal('a normal request afterwards is processed', normal[0]?.status, 'complete');
      const processesAlive = processes.every((p) => p.alive());
      checks.expect('no process exited', processesAlive, processes.map((p) => `${p.role} ${p.alive()}`).join(', '));
      return {
        summary:
          `${Object.values(deadLettered).filter((r) => r !== 'missing').length}/${list.length} poison messages in ` +
          `xfc.dead (${Object.entries(deadLettered)
            .map(([name, r]) => `${name}: ${r}`)
            .join('; ')}); unknown user → ${ghostResult.type} ${reason ?? ''} in ${seconds(failedAfterMs)}, ` +
          `${ghostRuns.length} run, ${retries} retries, failure ${applied ? 'applied' : 'NOT applied'}, request ` +
          `${requestRecorded ? 'recorded' : 'NOT recorded'}; bridge retries ${bridgeRetries}; ` +
          `normal request afterwards ${normal[0]?.status ?? 'NOT processed'}`,
        checks: checks.list,
        measured: {
          deadLettered,
          unknownUser: {
            result: ghostResult.type,
            reason,
            scanRuns: ghostRuns.length,
            activityRetries: retries,
            failedAfterMs,
            requestRecorded,
            applied: applied?.applied,
          },
          bridgeRetries,
          normalScanRecorded: normal.length > 0,
          processesAlive,
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
