import type { ScanReport } from '../messages/v1/scan-report.js';
import type { WalkCheckpoint } from './checkpoint.js';

export interface WalkOptions {
  /** Absolute path of the work directory. */
  root: string;
  /** Reference time for ages, so a scan is reproducible. */
  now: Date;
  ageBasis: 'ctime' | 'mtime';
  /** Names never descended, default ['.snapshot']. */
  exclude?: string[];
  /** Metadata requests in flight when the filesystem is slow (threads of the native walker); 0/undefined = 64. */
  threads?: number;
  /** Resume from here. */
  checkpoint?: WalkCheckpoint;
  /** Abort → resolves promptly with { done: false, checkpoint }. */
  signal?: AbortSignal;
  /** Stop after this long with { done: false, checkpoint } (Temporal runs a long walk in chunks). */
  budgetMs?: number;
  /** How often onCheckpoint fires (default 2 s). */
  checkpointIntervalMs?: number;
  onCheckpoint?: (checkpoint: WalkCheckpoint, progress: WalkProgress) => void;
  /** Called a few times per second. */
  onProgress?: (progress: WalkProgress) => void;
  /**
   * Tuning and tests: 'sync' keeps as many threads as cores (a fast filesystem), 'async' runs `threads` from
   * the start (a slow one); default: measure the latency of metadata requests and adapt.
   */
  mode?: 'sync' | 'async';
}

export interface WalkProgress {
  entries: number;
  files: number;
  directories: number;
  bytes: bigint;
  temporalByteDays: bigint;
  errors: number;
  /** Escaped, relative to the root. */
  currentDirectory: string;
  /** Cumulative across resumes. */
  elapsedMs: number;
}

export type WalkOutcome =
  | { done: true; report: ScanReport; progress: WalkProgress }
  | { done: false; checkpoint: WalkCheckpoint; progress: WalkProgress };

/** The walk cannot start: the root is missing, not a directory, or a symlink. */
export class WalkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalkError';
  }
}

/** The error for a root the walk cannot start from, by errno code. */
export function rootError(root: string, code: string | undefined, message: string): WalkError {
  if (code === 'ENOENT') return new WalkError(`${root} does not exist.`);
  if (code === 'EACCES') return new WalkError(`${root} cannot be reached: permission denied.`);
  if (code === 'ELOOP') {
    return new WalkError(`${root} is a symbolic link; xfc scans only real directories (give the link's target).`);
  }
  if (code === 'ENOTDIR') return new WalkError(`${root} is not a directory.`);
  return new WalkError(`${root} cannot be examined: ${message}`);
}
