import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ScenarioOutcome } from './harness/scenario.js';

/** Every check the scenario made must hold; its measured line goes to the test report. */
export function assertChecksHeld(t: TestContext, outcome: ScenarioOutcome<object>): void {
  t.diagnostic(outcome.summary);
  assert.ok(outcome.checks.length > 0, 'the scenario checked something');
  for (const check of outcome.checks) assert.ok(check.ok, `${check.what}: ${check.detail}`);
}
