import type { ChildProcess } from 'node:child_process';
import { spawnXfc, throttle } from '../../support/processes.js';

/** The xfc processes a deployment runs; each is `node --import tsx cli/main.ts …` from the sources. */
export type Role = 'control' | 'scan' | 'bridge';

const commandOf: Record<Role, string[]> = {
  control: ['worker', '--role', 'control'],
  scan: ['worker', '--role', 'scan'],
  bridge: ['bridge'],
};

/** The line each process prints once it is up (the bridge logs JSON lines). */
const readyMark: Record<Role, string> = {
  control: 'control worker: task queue',
  scan: 'scan worker: task queue',
  bridge: '"event":"amqp.consuming"',
};

export interface RunAs {
  uid: number;
  gid: number;
}

export interface XfcChild {
  role: Role;
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Settles with the exit code or signal name. */
  exited: Promise<number | string>;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Slows it to about `percent` of the CPU (SIGSTOP/SIGCONT); returns the function that ends the throttling. */
  throttle(percent: number): () => void;
  /** Freezes it (SIGSTOP) until `resume()`. */
  freeze(): void;
  resume(): void;
  /**
   * Lets it run for `ms` (fractions allowed: short steps busy-wait, timers are not that precise), then freezes it
   * again: a scenario steps a process to a precise point.
   */
  step(ms: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Starts one xfc process with `env` and waits until it says it is up. With `runAs`, it runs as that user through
 * setpriv (the scan worker of scenario 9: root ignores file permissions).
 */
export async function startXfc(
  role: Role,
  env: Record<string, string>,
  options: { runAs?: RunAs; readyTimeoutMs?: number } = {},
): Promise<XfcChild> {
  const { child, output, exited } = spawnXfc(commandOf[role], env, options);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals): void => {
    if (alive()) child.kill(name);
  };
  const handle: XfcChild = {
    role,
    child,
    pid: child.pid ?? -1,
    output,
    exited,
    alive,
    throttle: (percent) => throttle(child, percent),
    freeze: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    step: async (ms) => {
      signal('SIGCONT');
      if (ms >= 5) await sleep(ms);
      else for (const end = performance.now() + ms; performance.now() < end;);
      signal('SIGSTOP');
    },
    kill: signal,
    stop: async (graceMs = 20_000) => {
      if (!alive()) return exited;
      signal('SIGCONT');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(readyMark[role])) {
    if (!alive())
      throw new Error(
        `xfc ${role} exited (${String(child.exitCode ?? child.signalCode)}) before it was ready:\n${output()}`,
      );
    if (Date.now() > deadline) {
      await handle.stop(1_000);
      throw new Error(`xfc ${role} was not ready after ${timeoutMs / 1000} s:\n${output()}`);
    }
    await sleep(50);
  }
  return handle;
}

/** The JSON lines a process logged (the bridge's structured log), skipping anything else it printed. */
export function jsonLines(output: string): Array<Record<string, unknown>> {
  const entries: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut in two by the pipe, or not ours
    }
  }
  return entries;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
