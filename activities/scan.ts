import { ApplicationFailure, Context } from '@temporalio/activity';
import type { XfcConfig } from '../lib/config/env.js';
import { failureTypes } from '../lib/temporal/failure-types.js';
import type { AgeBasis, ScanReport } from '../lib/messages/v1/index.js';
import { parseCheckpoint, walk, type WalkCheckpoint, type WalkProgress } from '../lib/walker/index.js';
import type { ScanMetrics } from './metrics.js';
import { inspectWorkDirOnDisk, type WorkDirVerdict } from './work-dir.js';
import { errorMessage } from '../lib/common/errors.js';

export interface WalkChunkInput {
  scanId: string;
  workDir: string;
  /** The scan's reference time (ISO): every chunk and every retry uses the same one. */
  now: string;
  ageBasis: AgeBasis;
  exclude: string[];
  threads: number;
  /** How long this chunk may walk before it returns a checkpoint. */
  budgetMs: number;
  /** Where the previous chunk stopped; undefined for the first. */
  checkpoint?: unknown;
  /** Files counted before this chunk (for the files/s metric). */
  filesBefore: number;
}

/** Progress as JSON (heartbeat details, workflow queries, the Web UI). */
export interface ScanProgress {
  entries: number;
  files: number;
  directories: number;
  bytes: string;
  temporalByteDays: string;
  errors: number;
  currentDirectory: string;
  elapsedMs: number;
}

export type WalkChunkResult =
  | { done: false; checkpoint: WalkCheckpoint; progress: ScanProgress; resumedFromHeartbeat: boolean }
  | { done: true; report: ScanReport; progress: ScanProgress; resumedFromHeartbeat: boolean };

/** What each heartbeat carries: enough for the next attempt to resume, and progress for people. */
export interface WalkHeartbeat {
  checkpoint: WalkCheckpoint;
  progress: ScanProgress;
}

export function progressToJson(progress: WalkProgress): ScanProgress {
  return {
    entries: progress.entries,
    files: progress.files,
    directories: progress.directories,
    bytes: progress.bytes.toString(),
    temporalByteDays: progress.temporalByteDays.toString(),
    errors: progress.errors,
    currentDirectory: progress.currentDirectory,
    elapsedMs: progress.elapsedMs,
  };
}

export interface ScanActivityDeps {
  config: XfcConfig;
  /** Aborted when the worker begins a graceful shutdown: walks return their checkpoint at once. */
  draining?: AbortSignal;
  metrics?: ScanMetrics;
}

/** Activities of the `xfc-scan` task queue: they run on hosts that mount the volumes. */
export interface ScanActivities {
  inspectWorkDir(input: { workDir: string }): Promise<void>;
  walkChunk(input: WalkChunkInput): Promise<WalkChunkResult>;
}

export function createScanActivities(deps: ScanActivityDeps): ScanActivities {
  const { config } = deps;

  async function refuseUnlessScannable(workDir: string): Promise<void> {
    const verdict: WorkDirVerdict = await inspectWorkDirOnDisk(workDir, config.scan.root);
    if (!verdict.ok) {
      throw ApplicationFailure.create({
        type: failureTypes.workDirRefused,
        message: verdict.message,
        details: [verdict.reason],
        nonRetryable: true,
      });
    }
  }

  return {
    /** Checks the work directory before the first chunk, so a bad one fails in milliseconds. */
    async inspectWorkDir(input: { workDir: string }): Promise<void> {
      await refuseUnlessScannable(input.workDir);
    },

    /**
     * Walks for at most `budgetMs`, heartbeating a checkpoint every few seconds. A retry after a crash resumes
     * from the last heartbeat's checkpoint rather than the input's, so at most one heartbeat interval of work is
     * redone. On a graceful worker shutdown the chunk ends early and returns its checkpoint: the workflow then
     * schedules the next chunk, which any scan worker can pick up.
     */
    async walkChunk(input: WalkChunkInput): Promise<WalkChunkResult> {
      const context = Context.current();
      await refuseUnlessScannable(input.workDir);
      const fromHeartbeat = context.info.heartbeatDetails as WalkHeartbeat | undefined;
      const rawCheckpoint = fromHeartbeat?.checkpoint ?? input.checkpoint;
      let checkpoint: WalkCheckpoint | undefined;
      if (rawCheckpoint !== undefined) {
        try {
          checkpoint = parseCheckpoint(rawCheckpoint, { root: input.workDir });
        } catch (err) {
          throw ApplicationFailure.create({
            type: failureTypes.checkpointRefused,
            message: `Cannot resume the scan of ${input.workDir}: ${errorMessage(err)}`,
            nonRetryable: true,
          });
        }
      }
      const stop = AbortSignal.any([context.cancellationSignal, ...(deps.draining ? [deps.draining] : [])]);
      const startedAt = Date.now();
      const outcome = await walk({
        root: input.workDir,
        now: new Date(input.now),
        ageBasis: input.ageBasis,
        exclude: input.exclude,
        threads: input.threads,
        checkpoint,
        signal: stop,
        budgetMs: input.budgetMs,
        checkpointIntervalMs: config.scan.heartbeatIntervalMs,
        onCheckpoint: (next, progress) => {
          context.heartbeat({ checkpoint: next, progress: progressToJson(progress) } satisfies WalkHeartbeat);
        },
      });
      const progress = progressToJson(outcome.progress);
      deps.metrics?.recordChunk({
        files: outcome.progress.files - (fromHeartbeat?.progress.files ?? input.filesBefore),
        seconds: (Date.now() - startedAt) / 1000,
      });
      const resumedFromHeartbeat = fromHeartbeat !== undefined;
      if (outcome.done) return { done: true, report: outcome.report, progress, resumedFromHeartbeat };
      // Cancelled by the server (workflow cancelled or timed out): record where we were and report the cancellation.
      if (context.cancellationSignal.aborted && !deps.draining?.aborted) {
        context.heartbeat({ checkpoint: outcome.checkpoint, progress } satisfies WalkHeartbeat);
        throw context.cancellationSignal.reason;
      }
      return { done: false, checkpoint: outcome.checkpoint, progress, resumedFromHeartbeat };
    },
  };
}
