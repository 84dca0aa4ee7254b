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

/** The state of a `xfc dev` that is still running, or undefined. */
export function readDevState(file: string): DevState | undefined {
  let state: DevState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as DevState;
  } catch {
    return undefined;
  }
  return typeof state.pid === 'number' && processAlive(state.pid) ? state : undefined;
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
