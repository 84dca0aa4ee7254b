import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface XfcProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/**
 * Runs `xfc <args>` from the sources as a separate process with the given environment; with `runAs`, as that user
 * through setpriv (root ignores file permissions, an unprivileged scan worker does not).
 */
export function spawnXfc(
  args: string[],
  env: Record<string, string>,
  options: { runAs?: { uid: number; gid: number } } = {},
): XfcProcess {
  const node = [process.execPath, '--import', 'tsx', 'cli/main.ts', ...args];
  const [command, ...commandArgs] = options.runAs
    ? ['setpriv', `--reuid=${options.runAs.uid}`, `--regid=${options.runAs.gid}`, '--clear-groups', ...node]
    : node;
  const child = spawn(command as string, commandArgs, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => output, exited };
}

/**
 * Slows a process down to about `percent` of its CPU time by stopping and continuing it (SIGSTOP/SIGCONT) every
 * 100 ms, as a loaded or slow host would: a walk that takes a second takes ten. Returns a function that ends it.
 */
export function throttle(child: ChildProcess, percent: number): () => void {
  const runMs = Math.max(1, Math.round(percent));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const cycle = (): void => {
    if (stopped || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    timer = setTimeout(() => {
      if (stopped || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGSTOP');
      timer = setTimeout(cycle, 100 - runMs);
    }, runMs);
  };
  cycle();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
  };
}
