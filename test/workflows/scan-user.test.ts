import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'slonik';
import { z } from 'zod';
import { scanReport } from '../../lib/messages/v1/index.js';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { applyWorkflowId } from '../../lib/temporal/names.js';
import { startApplyWorkflow, startScanWorkflow } from '../../lib/temporal/starters.js';
import { walk } from '../../lib/walker/index.js';
import type { SweepResult } from '../../lib/temporal/contracts.js';
import { freePort } from '../support/ports.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { makeSymlinkedWorkDir, makeWorkDir } from '../support/trees.js';
import { insertUser, registerUsersFromTree } from '../support/users.js';
import { scanResult } from '../../lib/temporal/scan-result.js';
import { localActivityOf } from '../faults/harness/observe.js';

const run = promisify(execFile);

function request(username: string) {
  return {
    version: 1 as const,
    requestId: `test-${username}-${Date.now()}`,
    username,
    reason: 'manual' as const,
    requestedAt: new Date().toISOString(),
  };
}

describe('scan workflows on a real Temporal server, Postgres and RabbitMQ', () => {
  let stack: TestStack;
  let metricsPort: number;
  let temporalMetricsPort: number;

  before(async () => {
    [metricsPort, temporalMetricsPort] = [await freePort(), await freePort()];
    stack = await startTestStack({
      XFC_SCAN_HEARTBEAT_INTERVAL: '500ms',
      XFC_SCAN_HEARTBEAT_TIMEOUT: '5s',
      XFC_METRICS_PORT: String(metricsPort),
      XFC_TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
    });
    makeWorkDir(stack.root, 'vol1', 'alice', { dirs: 20, filesPerDir: 50, size: 4096 });
    makeWorkDir(stack.root, 'vol1', 'bob', { dirs: 5, filesPerDir: 10, size: 100 });
    makeWorkDir(stack.root, 'vol2', 'carol');
    makeWorkDir(stack.root, 'vol2', 'dave');
    makeSymlinkedWorkDir(stack.root, 'vol2', 'linky', '/etc');
    await registerUsersFromTree(stack.pool, stack.root);
    // Rows backfill would never create: a directory that is gone, a symlink, a volume outside XFC_ROOT.
    await insertUser(stack.pool, { name: 'ghost', mountpoint: join(stack.root, 'vol1') });
    await insertUser(stack.pool, { name: 'linky', mountpoint: join(stack.root, 'vol2') });
    const elsewhere = join(stack.root, '..', `outside-${Date.now()}`);
    mkdirSync(join(elsewhere, 'user_cache', 'outsider'), { recursive: true });
    await insertUser(stack.pool, { name: 'outsider', mountpoint: elsewhere });
    await stack.startWorkers('all');
  });

  after(async () => {
    await stack?.stop();
  });

  it('records a full scan in the database with exactly the walker’s totals', async () => {
    const started = await startScanWorkflow(stack.client, stack.config, request('alice'));
    const result = await scanResult(stack.client.workflow.getHandle(started.workflowId));
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    const { message } = result;
    assert.equal(message.workDir, join(stack.root, 'vol1', 'user_cache', 'alice'));
    assert.equal(message.totals.files, 1000);
    assert.equal(message.totals.bytes, String(1000 * 4096));

    // The walker on its own, with the same reference time, gives the same report.
    const reference = await walk({ root: message.workDir, now: new Date(message.now), ageBasis: message.ageBasis });
    assert.ok(reference.done);
    if (!reference.done) return;
    assert.deepEqual(scanReport.parse(message).totals, reference.report.totals);

    const applied = await startApplyWorkflow(stack.client, stack.config, result);
    await stack.client.workflow.getHandle(applied.workflowId).result();
    const row = await stack.pool.one(sql.type(
      z.object({ quotaUsed: z.bigint(), totalUsed: z.bigint(), lastScanned: z.date() }),
    )`SELECT quota_used AS "quotaUsed", total_used AS "totalUsed", s.last_scanned AS "lastScanned"
      FROM xfc_control_user u JOIN xfc_user_state s ON s.user_id = u.id WHERE name = 'alice'`);
    assert.equal(row.totalUsed, BigInt(message.totals.bytes));
    assert.equal(row.quotaUsed, BigInt(message.totals.temporalByteDays));
    assert.equal(row.lastScanned.toISOString(), new Date(message.now).toISOString());

    // A second application of the same result (a replayed message) is accepted and changes nothing.
    const again = await startApplyWorkflow(stack.client, stack.config, result);
    assert.equal(again.started, false);
    const scans = await stack.pool.oneFirst(sql.type(z.object({ n: z.bigint() }))`
      SELECT count(*) AS n FROM xfc_scan WHERE username = 'alice'`);
    assert.equal(scans, 1n);
  });

  it('serves Prometheus metrics: xfc’s own and the Temporal runtime’s', async () => {
    const ours = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(ours, /^xfc_walk_files_total [1-9]\d*$/m, 'files walked so far');
    assert.match(ours, /^xfc_scans_total\{status="complete"\} [1-9]/m, 'scans recorded');
    const temporal = await (await fetch(`http://127.0.0.1:${temporalMetricsPort}/metrics`)).text();
    assert.match(temporal, /temporal_activity_execution_latency/);
  });

  it('gives two concurrent requests for one user a single scan', async () => {
    const [first, second] = await Promise.all([
      startScanWorkflow(stack.client, stack.config, request('bob')),
      startScanWorkflow(stack.client, stack.config, request('bob')),
    ]);
    assert.equal(first.runId, second.runId);
    await stack.client.workflow.getHandle(first.workflowId).result();
    let executions = 0;
    for await (const _ of stack.client.workflow.list({ query: `WorkflowId = "${first.workflowId}"` })) executions++;
    assert.equal(executions, 1);
  });

  it('serves a request delivered again after its scan finished only once', async () => {
    const repeated = request('carol');
    const first = await startScanWorkflow(stack.client, stack.config, repeated);
    const served = await scanResult(stack.client.workflow.getHandle(first.workflowId));
    assert.equal(served.type, 'scan.completed');
    const again = await startScanWorkflow(stack.client, stack.config, repeated);
    assert.notEqual(again.runId, first.runId, 'the finished scan does not block a new run');
    const second = await scanResult(stack.client.workflow.getHandle(again.workflowId));
    assert.equal(second.type, 'duplicate');
    if (second.type === 'duplicate' && served.type === 'scan.completed') {
      assert.equal(second.servedBy, served.message.scanId);
    }
  });

  it('never lets a sweep claim a user whose scan request is outstanding', async () => {
    const sweep = (id: string) =>
      stack.client.workflow.execute('sweep', {
        workflowId: id,
        taskQueue: stack.config.temporal.controlTaskQueue,
        args: [{ batchSize: 100 }],
      }) as Promise<SweepResult>;
    const [one, two] = await Promise.all([sweep('sweep-test-1'), sweep('sweep-test-2')]);
    const claimedTwice = one.claimed.filter((name) => two.claimed.includes(name));
    assert.deepEqual(claimedTwice, []);
    assert.ok(one.claimed.length + two.claimed.length >= 3, 'the due users were claimed');
    const third = await sweep('sweep-test-3');
    assert.deepEqual(third.claimed, [], 'users with an outstanding request are not claimed again');
  });

  for (const [username, reason] of [
    ['ghost', 'work-dir-missing'],
    ['linky', 'work-dir-symlink'],
    ['outsider', 'work-dir-outside-root'],
    ['nobody', 'unknown-user'],
  ] as const) {
    it(`ends a scan of ${username} quickly as scan.failed (${reason})`, async () => {
      const startedAt = Date.now();
      const started = await startScanWorkflow(stack.client, stack.config, request(username));
      const handle = stack.client.workflow.getHandle(started.workflowId);
      const result = await scanResult(handle);
      assert.equal(result.type, 'scan.failed');
      if (result.type !== 'scan.failed') return;
      assert.equal(result.message.reason, reason);
      assert.ok(Date.now() - startedAt < 10_000, `took ${Date.now() - startedAt} ms`);
      // The run ends as Failed (what the Web UI shows), with a non-retryable ScanFailed failure saying why…
      const description = await handle.describe();
      assert.equal(description.status.name, 'FAILED');
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, 'ScanFailed');
        assert.equal(err.cause.nonRetryable, true);
        assert.match(err.cause.message, new RegExp(`^Scan of ${username} failed \\(${reason}\\): `));
        return true;
      });
      // …only after scan.failed was published to RabbitMQ (the step completed before the run failed: a local
      // activity's marker, recorded with the workflow task that then fails the run, comes before the failure)…
      const events = (await handle.fetchHistory()).events ?? [];
      const published = events.findIndex((event) => localActivityOf(event)?.type === 'publishScanFailed');
      const failedAt = events.findIndex((event) => event.workflowExecutionFailedEventAttributes);
      assert.ok(published >= 0 && failedAt > published, `published at event ${published}, failed at ${failedAt}`);
      // …and handed to the application, which records it (a user xfc does not know has no row to record it in).
      await stack.client.workflow.getHandle(applyWorkflowId(result.message.scanId)).result();
      const recorded = await stack.pool.maybeOne(
        sql.type(
          z.object({ status: z.string(), reason: z.string().nullable() }),
        )`SELECT status, failure_reason AS reason FROM xfc_scan WHERE scan_id = ${result.message.scanId}`,
      );
      assert.deepEqual(recorded, reason === 'unknown-user' ? null : { status: 'failed', reason });
    });
  }

  it('makes a failed scan findable and visible as failed: XfcScanStatus, XfcVolume, the CLI’s exit status', async () => {
    // Visibility is eventually consistent: ask until the runs are indexed.
    const ids = async (query: string): Promise<string[]> => {
      for (let tries = 0; ; tries++) {
        const found: string[] = [];
        for await (const run of stack.client.workflow.list({ query })) found.push(run.workflowId);
        if (found.length > 0 || tries >= 40) return found.sort();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    assert.ok((await ids('XfcScanStatus="failed"')).includes('scan-nobody'));
    assert.ok((await ids('WorkflowType="scanUser" AND ExecutionStatus="Failed"')).includes('scan-nobody'));
    assert.ok((await ids('XfcScanStatus="complete" AND XfcVolume="vol1"')).includes('scan-alice'));
    const description = await stack.client.workflow.getHandle('scan-alice').describe();
    assert.match((await description.staticSummary()) ?? '', /^Scan of alice \(manual\)$/);

    const env = { ...process.env, ...stack.env };
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env }).then(
        (done) => ({ code: 0, stdout: done.stdout }),
        (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
      );
    const status = await cli('workflow', 'status', 'scan', 'nobody', '--json');
    assert.equal(status.code, 1, 'the status of a failed scan exits 1');
    assert.equal((JSON.parse(status.stdout) as { result: { type: string } }).result.type, 'scan.failed');
    const text = await cli('workflow', 'status', 'scan', 'nobody');
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^scan-nobody \(run [\w-]+\): FAILED\n/);
    assert.match(text.stdout, /unknown-user/);
    const waited = await cli('workflow', 'start', 'scan', '--user', 'zed', '--wait', '--json');
    assert.equal(waited.code, 1, 'waiting for a scan that fails exits 1');
    assert.equal((JSON.parse(waited.stdout) as { result: { type: string } }).result.type, 'scan.failed');
    const complete = await cli('workflow', 'status', 'scan', 'alice');
    assert.equal(complete.code, 0);
    assert.match(complete.stdout, /: COMPLETED\n {2}started {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
  });
});
