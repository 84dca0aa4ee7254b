import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { requestScanViaQueue } from '../../lib/amqp/requests.js';
import { loadConfig } from '../../lib/config/env.js';
import { withPool } from '../../db/pool.js';
import { scanWorkflowId } from '../../lib/temporal/names.js';
import { walk } from '../../lib/walker/index.js';
import { freePort } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { spawnXfc, throttle, type XfcProcess } from '../support/processes.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { scratchDir } from '../support/scratch.js';
import { registerUsersFromTree } from '../support/users.js';
import { heartbeatWithFiles, until, walkChunks } from '../support/walk-history.js';
import { scanResult } from '../../lib/temporal/scan-result.js';

/** 60,000 small files in 60 directories: seconds to walk while the process is slowed down. */
function writeTree(dir: string): void {
  for (let d = 0; d < 60; d++) {
    const sub = join(dir, `dir${String(d).padStart(2, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 1000; f++) writeFileSync(join(sub, `file${f}`), 'x'.repeat((d + f) % 50));
  }
}

async function running(dev: XfcProcess): Promise<void> {
  await until('xfc dev to run', () => {
    if (dev.child.exitCode !== null) throw new Error(`xfc dev exited:\n${dev.output()}`);
    return dev.output().includes('xfc dev is running') ? true : undefined;
  });
}

/**
 * Ctrl-C on `xfc dev` in the middle of a walk: the walk returns its checkpoint (a graceful stop, not a failed
 * attempt), everything stops, and the next `xfc dev` — same XFC_VAR_DIR, so the same Temporal state — finishes the
 * scan from there with the totals of an uninterrupted walk.
 */
describe('xfc dev stopped during a walk', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let varDir: string;
  let root: string;
  let env: Record<string, string>;
  const processes: XfcProcess[] = [];

  before(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    varDir = mkdtempSync(join(tmpdir(), 'xfc-dev-var-'));
    root = scratchDir('xfc-dev-root');
    writeTree(join(root, 'vol1', 'user_cache', 'big'));
    env = {
      XFC_DATABASE_URL: db.url,
      XFC_AMQP_URL: vhost.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      XFC_TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
      XFC_VAR_DIR: varDir,
      XFC_ROOT: root,
      XFC_SMTP_URL: '',
      XFC_METRICS_PORT: '0',
      XFC_TEMPORAL_METRICS_PORT: '0',
      XFC_SCAN_HEARTBEAT_INTERVAL: '300ms',
      XFC_SCAN_HEARTBEAT_TIMEOUT: '3s',
      XFC_SCAN_THREADS: '2',
    };
  });

  after(async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await Promise.all(processes.map((proc) => proc.exited));
    await Promise.all([db.drop(), vhost.delete()]);
    rmSync(varDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('checkpoints the walk on SIGINT and finishes it after a restart', async () => {
    const first = spawnXfc(['dev'], env);
    processes.push(first);
    await running(first);
    const config = loadConfig(env);
    await withPool(db.url, (pool) => registerUsersFromTree(pool, root));
    const release = throttle(first.child, 10);
    await requestScanViaQueue(config, 'big');

    let connection = await Connection.connect({ address: config.temporal.address });
    let handle = new Client({ connection }).workflow.getHandle(scanWorkflowId('big'));
    const seen = await heartbeatWithFiles(handle);
    await connection.close();
    release();
    const asked = Date.now();
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 0, first.output());
    const seconds = (Date.now() - asked) / 1000;
    assert.ok(seconds < 20, `xfc dev stopped in ${seconds} s`);
    assert.ok(seen.progress.files < 60_000, 'the walk was interrupted part-way');

    const second = spawnXfc(['dev'], env);
    processes.push(second);
    await running(second);
    connection = await Connection.connect({ address: config.temporal.address });
    handle = new Client({ connection }).workflow.getHandle(scanWorkflowId('big'));
    const result = await scanResult(handle);
    assert.equal(result.type, 'scan.completed');
    if (result.type !== 'scan.completed') return;
    const chunks = await walkChunks(handle);
    await connection.close();
    assert.equal(chunks[0]?.result.done, false, 'the interrupted chunk returned a checkpoint');
    assert.equal(chunks[0]?.attempt, 1, 'Ctrl-C is a graceful stop, not a failed attempt');
    const reference = await walk({
      root: result.message.workDir,
      now: new Date(result.message.now),
      ageBasis: 'ctime',
    });
    assert.ok(reference.done);
    assert.deepEqual(result.message.totals, reference.report.totals);
    assert.equal(result.message.totals.files, 60_000);

    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0, second.output());
  });
});
