import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { xfcSearchAttributes } from './search-attribute.js';

/** xfc's search attributes (docs/design.md §6: the Web UI filters scan and apply workflows by them), as dev server flags. */
export const searchAttributeFlags = xfcSearchAttributes.flatMap((attribute) => [
  '--search-attribute',
  `${attribute.name}=${attribute.type}`,
]);

/**
 * Finds the `temporal` CLI: $TEMPORAL_CLI_PATH, then PATH, then Go's install directory
 * (`go install github.com/temporalio/cli/cmd/temporal@v1.5.1` puts it in ~/go/bin).
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.TEMPORAL_CLI_PATH,
    ...(env.PATH ?? '').split(delimiter).map((dir) => (dir ? join(dir, 'temporal') : undefined)),
    env.GOPATH ? join(env.GOPATH, 'bin', 'temporal') : undefined,
    join(homedir(), 'go', 'bin', 'temporal'),
  ];
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate));
}

/** What to tell a person whose machine has no `temporal` CLI. */
export const temporalCliMissing =
  'The temporal CLI (which runs the Temporal dev server) was not found in $TEMPORAL_CLI_PATH, on PATH or in ' +
  '~/go/bin. Install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (it lands in ~/go/bin), ' +
  'or set TEMPORAL_CLI_PATH to it, or set TEMPORAL_ADDRESS to a Temporal server that is running. On a machine with ' +
  'internet access the Temporal SDK can also download it: @temporalio/testing (a devDependency) fetches the same ' +
  'dev server for TestWorkflowEnvironment.createLocal().';

export interface DevServerOptions {
  executable: string;
  port: number;
  uiPort?: number;
  /** SQLite file: the server keeps its state across restarts. Omit for in-memory. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes; by default it is discarded. */
  onOutput?: (chunk: Buffer) => void;
  /**
   * Run the server in a process group of its own, so that Ctrl-C in a terminal reaches only us and we stop the
   * server last, after the workers have checkpointed. It is still stopped when this process exits.
   */
  detached?: boolean;
  /** Register XfcUser at start-up (default true); false gives a server like one someone else set up. */
  registerSearchAttribute?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` as a child process and resolves once its frontend answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.registerSearchAttribute ?? true) args.push(...searchAttributeFlags);
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  const child = spawn(options.executable, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const address = `127.0.0.1:${options.port}`;
  await superviseServer(child, address, 'temporal server start-dev', 60_000, {
    ...(options.onOutput && { onOutput: options.onOutput }),
  });
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: child,
    stop: () => stopChild(child),
  };
}

/**
 * Ties a Temporal server child process to this one (it never outlives us, a SIGKILL aside), passes its output to
 * `onOutput`, and resolves once its frontend answers at `address`; if it exits or stays silent for `timeoutMs`, it
 * is stopped and the promise rejects.
 */
export async function superviseServer(
  child: ChildProcess,
  address: string,
  what: string,
  timeoutMs: number,
  { onOutput = () => undefined, tls }: { onOutput?: (chunk: Buffer) => void; tls?: TLSConfig } = {},
): Promise<void> {
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const gone = new AbortController();
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      gone.abort();
      reject(new Error(`${what} exited early (code ${code}, signal ${signal})`));
    });
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForFrontend(address, timeoutMs, gone.signal, what, tls), exited]);
  } catch (err) {
    gone.abort();
    await stopChild(child);
    throw err;
  }
}

/** True when something accepts TCP connections at `address` (host:port) within `timeoutMs`. */
export function portOpen(address: string, timeoutMs: number): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function frontendAnswers(address: string, timeoutMs: number, tls?: TLSConfig): Promise<boolean> {
  // A refused connection is the common case (nothing started yet); gRPC would retry it until the deadline.
  if (!(await portOpen(address, timeoutMs))) return false;
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs, tls: tls ?? false });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/** Resolves once a Temporal frontend answers at `address`; fails after `timeoutMs` or when `signal` aborts. */
export async function waitForFrontend(
  address: string,
  timeoutMs: number,
  signal?: AbortSignal,
  what = 'Temporal dev server',
  tls?: TLSConfig,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (await frontendAnswers(address, 2_000, tls)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} at ${address} did not answer within ${timeoutMs / 1000} s`);
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
