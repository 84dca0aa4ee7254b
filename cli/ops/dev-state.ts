import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What a running `xfc dev` tells other commands on the same machine (`xfc demo`, `xfc doctor`): where its mail
 * goes, which root it scans, which age basis it uses. Written at start-up to XFC_VAR_DIR/dev.json, removed at stop;
 * a file left by a process that is gone is ignored.
 */
export interface DevState {
  pid: number;
  startedAt: string;
  temporalAddress: string;
  temporalUiUrl: string;
  /** Set when `xfc dev` started the Temporal dev server itself. */
  temporalPid?: number;
  smtpUrl: string;
  /** Set when mail goes to the embedded sink: one .eml file per message. */
  mailDir?: string;
  root: string;
  ageBasis: 'ctime' | 'mtime';
  databaseUrl: string;
  amqpUrl: string;
}

export function writeDevState(file: string, state: DevState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** What the file says, whether or not that `xfc dev` still runs. */
export function readDevStateFile(file: string): DevState | undefined {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as DevState;
    return typeof state.pid === 'number' ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The state of a `xfc dev` that is still running, or undefined. */
export function readDevState(file: string): DevState | undefined {
  const state = readDevStateFile(file);
  return state && processAlive(state.pid) ? state : undefined;
}

/**
 * The Temporal dev server that a `xfc dev` killed without warning (SIGKILL) left running, when it is still the
 * server on our state file: the next `xfc dev` adopts it, and stops it when it stops.
 */
export function orphanedTemporal(file: string, dbFile: string): number | undefined {
  const state = readDevStateFile(file);
  const pid = state?.temporalPid;
  if (!state || processAlive(state.pid) || pid === undefined || !processAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('start-dev') && cmdline.includes(dbFile) ? pid : undefined;
  } catch {
    return undefined; // no /proc, or gone: nothing to adopt
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  const deadline = Date.now() + graceMs;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Removes the file if it still describes this process. */
export function removeDevState(file: string, pid: number = process.pid): void {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevState>;
    if (state.pid === pid) rmSync(file, { force: true });
  } catch {
    // gone already
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
