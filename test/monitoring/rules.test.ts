import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { monitoringDir, ruleExpressions, metricsIn } from './queried-metrics.js';

/** The alert rules checked and unit-tested by a real Prometheus's promtool (Debian package `prometheus`). */

function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('deploy/monitoring alert rules', () => {
  it('pass promtool check rules', () => {
    const run = promtool(['check', 'rules', 'alerts.yml'], monitoringDir);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS: 6 rules found/);
  });

  it('pass promtool test rules: each alert fires on its series and stays quiet on others', () => {
    const run = promtool(['test', 'rules', 'alerts.test.yml'], monitoringDir);
    assert.equal(run.status, 0, run.output);
  });

  it('have a firing and a quiet case for every alert', () => {
    const rules = readFileSync(join(monitoringDir, 'alerts.yml'), 'utf8');
    const tests = readFileSync(join(monitoringDir, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((match) => match[1]!);
    assert.equal(alerts.length, 6);
    for (const alert of alerts) {
      const cases = tests.split(/\n\s*- eval_time:/).filter((block) => block.includes(`alertname: ${alert}\n`));
      assert.ok(
        cases.some((block) => /exp_alerts:\s*\n\s*- exp_labels/.test(block)),
        `${alert} fires somewhere`,
      );
      assert.ok(
        cases.some((block) => /exp_alerts: \[\]/.test(block)),
        `${alert} stays quiet somewhere`,
      );
    }
  });

  it('fail promtool test rules when an alert’s threshold is broken (the tests can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xfc-rules-'));
    try {
      copyFileSync(join(monitoringDir, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
      const broken = readFileSync(join(monitoringDir, 'alerts.yml'), 'utf8').replace(
        'xfc_users_not_scanned{within_days="2"}) > 0',
        'xfc_users_not_scanned{within_days="2"}) > 100',
      );
      writeFileSync(join(dir, 'alerts.yml'), broken);
      const run = promtool(['test', 'rules', 'alerts.test.yml'], dir);
      assert.notEqual(run.status, 0);
      assert.match(run.output, /XfcUsersUnscanned/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('query only xfc metrics by their exported names', () => {
    const names = ruleExpressions().flatMap(metricsIn);
    assert.ok(names.includes('xfc_last_sweep_timestamp_seconds'));
    assert.ok(names.includes('xfc_emails_total'));
    assert.equal(execFileSync('promtool', ['--version'], { encoding: 'utf8' }).includes('promtool'), true);
  });
});
