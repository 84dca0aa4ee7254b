import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowCodeOptions } from '../../workers/workflow-code.js';

const dir = fileURLToPath(new URL('./histories', import.meta.url));
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort();

/**
 * Histories recorded from real runs (record-histories.ts) replay against the current workflow code: a change that
 * would break workflows already running (a different sequence of commands) fails here, not in production.
 */
describe('recorded workflow histories replay against the current code', () => {
  it('has a history for every workflow path', () => {
    for (const name of [
      'sweep',
      'scan-user-complete',
      'scan-user-failed',
      'scan-user-complete-handoff',
      'scan-user-failed-handoff',
      'scan-user-failed-ends-failed',
      'scan-user-complete-apply-step',
      'scan-user-failed-apply-step',
      'scan-user-duplicate',
      'apply-scan-email',
      'apply-scan-email-recorded-later',
    ]) {
      assert.ok(files.includes(`${name}.json`), `${name}.json is recorded`);
    }
  });

  it('replays every history without non-determinism', async () => {
    const histories = files.map((name) => ({
      workflowId: name.replace(/\.json$/, ''),
      history: proto.temporal.api.history.v1.History.fromObject(
        JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>,
      ),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ ...workflowCodeOptions() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
