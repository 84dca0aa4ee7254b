/**
 * What a fault scenario is and what it reports. A scenario starts its own stack of real processes, breaks something,
 * and measures what became of the work: `npm run faults` prints its summary line, and the CI tests
 * (test/faults/) assert on its checks and measurements. One definition serves both.
 */

export interface ScenarioOptions {
  /** Short outages and small trees, for CI; the full run (`npm run faults`) uses longer, more realistic ones. */
  quick: boolean;
  /** How long the SMTP server stays down in scenario 6 (ms). */
  smtpOutageMs?: number;
  /** Progress notes for people watching (the faults script prints them dimmed; tests drop them). */
  note?: (line: string) => void;
}

/** One thing the scenario verified: what, whether it held, and the evidence. */
export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioOutcome<M extends object = Record<string, unknown>> {
  /** The one-line measurement printed after PASS/FAIL. */
  summary: string;
  checks: Check[];
  /** The figures behind the summary, for tests to assert on. */
  measured: M;
}

export interface Scenario<M extends object = Record<string, unknown>> {
  id: number;
  name: string;
  run(options: ScenarioOptions): Promise<ScenarioOutcome<M>>;
}

/** Collects checks as a scenario goes; `expect` records one and returns whether it held. */
export class Checks {
  readonly list: Check[] = [];

  expect(what: string, ok: boolean, detail = ''): boolean {
    this.list.push({ what, ok, detail });
    return ok;
  }

  equal<T>(what: string, actual: T, expected: T): boolean {
    return this.expect(what, Object.is(actual, expected), `got ${String(actual)}, expected ${String(expected)}`);
  }

  get passed(): boolean {
    return this.list.every((check) => check.ok);
  }

  failures(): Check[] {
    return this.list.filter((check) => !check.ok);
  }
}

export function passed(outcome: ScenarioOutcome<object>): boolean {
  return outcome.checks.length > 0 && outcome.checks.every((check) => check.ok);
}

/** 61000 → "61,000". */
export function count(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

/** Milliseconds as seconds with one decimal ("12.3 s"). */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
