import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startScanWorkflow } from '../../lib/temporal/starters.js';
import { walk } from '../../lib/walker/index.js';
import { spawnXfc, throttle, type XfcProcess } from '../support/processes.js';
import { registerUsersFromTree } from '../support/users.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { heartbeatWithFiles, until, walkChunks } from '../support/walk-history.js';
import { scanResult } from '../../lib/temporal/scan-result.js';

/** 120,000 files of varied sizes in 120 directories: seconds to walk when the worker is slowed down. */
function writeLargeTree(dir: string): void {
  const content = Buffer.alloc(4096, 97);
  for (let d = 0; d < 120; d++) {
    const sub = join(dir, `dir${String(d).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 1000; f++) writeFileSync(join(sub, `file${f}`), content.subarray(0, (d * 7 + f) % 4096));
  }
}

async function workerReady(worker: XfcProcess): Promise<void> {
  await until('the scan worker to start', () => (worker.output().includes('scan worker:') ? true : undefined));
}

describe('walks survive the scan worker being killed or stopped', () => {
  let stack: TestStack;
  let workDir: string;
  const workers: XfcProcess[] = [];

  function startScanWorker(): XfcProcess {
    const worker = spawnXfc(['worker', '--role', 'scan'], stack.env);
    workers.push(worker);
    return worker;
  }

  async function cleanWalk(now: string) {
    const outcome = await walk({ root: workDir, now: new Date(now), ageBasis: 'ctime' });
    assert.ok(outcome.done);
    return outcome.report;
  }

  before(async () => {
    stack = await startTestStack({
      XFC_SCAN_HEARTBEAT_INTERVAL: '300ms',
      XFC_SCAN_HEARTBEAT_TIMEOUT: '3s',
      XFC_SCAN_THREADS: '2',
    });
    workDir = join(stack.root, 'vol1', 'user_cache', 'big');
    writeLargeTree(workDir);
    await registerUsersFromTree(stack.pool, stack.root);
    await stack.startWorkers('control');
  });

  after(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await stack?.stop();
  });

  it('resumes from the last heartbeat’s checkpoint after SIGKILL, with the totals of a clean walk', async () => {
    const first = startScanWorker();
    await workerReady(first);
    const release = throttle(first.child, 10);
    const started = await startScanWorkflow(stack.client, stack.config, {
      version: 1,
      requestId: 'resume-after-kill',
      username: 'big',
      reason: 'manual',
      requestedAt: new Date().toISOString(),
    });
    const handle = stack.client.workflow.getHandle(started.workflowId);
    const seen = await heartbeatWithFiles(handle);
    first.child.kill('SIGKILL');
    release();
    assert.equal(await first.exited, 'SIGKILL');
    assert.ok(seen.progress.files < 120_000, 'the walk was killed part-way');

    const second = startScanWorker();
    const result = await scanResult(handle);
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;

    const chunks = await walkChunks(handle);
    const resumed = chunks.find((chunk) => chunk.result.resumedFromHeartbeat);
    assert.ok(resumed, 'a walk attempt resumed from a heartbeat checkpoint instead of starting from zero');
    assert.ok(resumed.attempt >= 2, `the resuming attempt is a retry (attempt ${resumed.attempt})`);

    const reference = await cleanWalk(result.message.now);
    assert.deepEqual(result.message.totals, reference.totals);
    assert.deepEqual(result.message.ageHistogram, reference.ageHistogram);
    assert.deepEqual(result.message.topDirectories, reference.topDirectories);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('on SIGTERM ends the walk chunk early with its checkpoint; the next chunk continues on another worker', async () => {
    const first = startScanWorker();
    await workerReady(first);
    const release = throttle(first.child, 10);
    const started = await startScanWorkflow(stack.client, stack.config, {
      version: 1,
      requestId: 'resume-after-term',
      username: 'big',
      reason: 'manual',
      requestedAt: new Date().toISOString(),
    });
    const handle = stack.client.workflow.getHandle(started.workflowId);
    await heartbeatWithFiles(handle);
    release();
    const stopAsked = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const stopSeconds = (Date.now() - stopAsked) / 1000;
    assert.ok(stopSeconds < 15, `the worker stopped in ${stopSeconds} s`);

    const second = startScanWorker();
    const result = await scanResult(handle);
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    const chunks = await walkChunks(handle);
    assert.ok(chunks.length >= 2, 'the walk took more than one chunk');
    assert.equal(chunks[0]?.result.done, false, 'the interrupted chunk returned a checkpoint');
    assert.equal(chunks[0]?.attempt, 1, 'a graceful stop is not a failed attempt');
    assert.deepEqual(result.message.totals, (await cleanWalk(result.message.now)).totals);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
