import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApplyWorkflow, startScanWorkflow } from '../../lib/temporal/starters.js';
import type { SweepResult } from '../../lib/temporal/contracts.js';
import { freePort } from '../support/ports.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { makeWorkDir } from '../support/trees.js';
import { insertUser, registerUsersFromTree } from '../support/users.js';
import { dashboardExpressions, exportedName, metricsIn, ruleExpressions } from './queried-metrics.js';
import { scanResult } from '../../lib/temporal/scan-result.js';

/**
 * Every metric the alert rules and the Grafana dashboard query is exported by a running xfc: real workers (control
 * and scan) on a real Temporal, PostgreSQL and RabbitMQ, after a sweep, a complete scan and a failed one.
 */

function request(username: string) {
  return {
    version: 1 as const,
    requestId: `metrics-${username}-${Date.now()}`,
    username,
    reason: 'manual' as const,
    requestedAt: new Date().toISOString(),
  };
}

/** Metric name → its sample lines. */
function samples(exposition: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    const base = exportedName(name);
    byName.set(base, [...(byName.get(base) ?? []), line]);
  }
  return byName;
}

describe('metrics queried by deploy/monitoring are exported by running workers', () => {
  let stack: TestStack;
  let metricsPort: number;

  before(async () => {
    metricsPort = await freePort();
    stack = await startTestStack({ XFC_METRICS_PORT: String(metricsPort), XFC_METRICS_DB_MAX_AGE_MS: '0' });
    makeWorkDir(stack.root, 'vol1', 'alice', { dirs: 3, filesPerDir: 5, size: 1000 });
    await registerUsersFromTree(stack.pool, stack.root);
    await insertUser(stack.pool, { name: 'ghost', mountpoint: join(stack.root, 'vol1') });
    await stack.startWorkers('all');
    for (const username of ['alice', 'ghost']) {
      const started = await startScanWorkflow(stack.client, stack.config, request(username));
      const result = await scanResult(stack.client.workflow.getHandle(started.workflowId));
      if (result.type === 'duplicate') throw new Error(`scan of ${username} was a duplicate`);
      const applied = await startApplyWorkflow(stack.client, stack.config, result);
      await stack.client.workflow.getHandle(applied.workflowId).result();
    }
    (await stack.client.workflow.execute('sweep', {
      workflowId: `metrics-sweep-${Date.now()}`,
      taskQueue: stack.config.temporal.controlTaskQueue,
      args: [{ batchSize: 10 }],
    })) as SweepResult;
  });

  after(async () => {
    await stack?.stop();
  });

  it('exports a sample of every metric the rules and the dashboard query', async () => {
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const exported = samples(exposition);
    const queried = new Set([...ruleExpressions(), ...dashboardExpressions()].flatMap(metricsIn).map(exportedName));
    assert.ok(queried.size >= 15, `found ${queried.size} metrics in the rules and the dashboard`);
    const missing = [...queried].filter((name) => !exported.has(name));
    assert.deepEqual(missing, [], `queried but not exported:\n${[...queried].join('\n')}`);
  });

  it('computes the fleet gauges from the database: the sweep ran, one user scanned, one never', async () => {
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const sweep = Number(/^xfc_last_sweep_timestamp_seconds (\S+)$/m.exec(exposition)?.[1]);
    assert.ok(Math.abs(sweep - Date.now() / 1000) < 300, `last sweep ${sweep}`);
    assert.match(exposition, /^xfc_users 2$/m);
    assert.match(exposition, /^xfc_users_never_scanned 1$/m);
    assert.match(exposition, /^xfc_users_not_scanned\{within_days="1"\} 1$/m);
    assert.match(exposition, /^xfc_scan_failures_total\{reason="work-dir-missing"\} 1$/m);
    assert.match(exposition, /^xfc_scan_duration_seconds_count 1$/m);
    assert.match(exposition, /^xfc_dead_letters 0$/m);
    assert.doesNotMatch(exposition, /^xfc_process_/m, 'no doubled prefix on the process metrics');
  });
});
