import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError, UserError, errorMessage } from '../lib/common/errors.js';
import {
  CheckpointError,
  parseCheckpoint,
  type CheckpointExpectation,
  type WalkCheckpoint,
} from '../lib/walker/index.js';

/**
 * `xfc scan --checkpoint FILE`: the file holds the last checkpoint of an unfinished scan. A missing file means
 * a fresh scan; one from another path, version or settings is refused and left alone.
 */
export function loadCheckpointFile(file: string, expected: CheckpointExpectation): WalkCheckpoint | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot read the checkpoint ${file}: ${errorMessage(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not a checkpoint (not JSON); delete it or choose another file.`);
  }
  try {
    return parseCheckpoint(json, expected);
  } catch (err) {
    if (err instanceof CheckpointError) throw new UsageError(`Refusing the checkpoint ${file}: ${err.message}`);
    throw err;
  }
}

/** What a checkpoint file was made with, to resume with the same settings when none are given. */
export function peekCheckpointSettings(file: string): Partial<Pick<WalkCheckpoint, 'now' | 'ageBasis' | 'exclude'>> {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return {
      ...(typeof json.now === 'string' ? { now: json.now } : {}),
      ...(json.ageBasis === 'ctime' || json.ageBasis === 'mtime' ? { ageBasis: json.ageBasis } : {}),
      ...(Array.isArray(json.exclude) && json.exclude.every((x) => typeof x === 'string')
        ? { exclude: json.exclude }
        : {}),
    };
  } catch {
    return {}; // missing or unreadable: loadCheckpointFile says what is wrong
  }
}

/** Replaces the file atomically, so an interruption never leaves half a checkpoint. */
export function saveCheckpointFile(file: string, checkpoint: WalkCheckpoint): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint)}\n`);
  renameSync(temporary, file);
}

export function removeCheckpointFile(file: string): void {
  rmSync(file, { force: true });
}
