import type { AgeBasis, ScanCompleted, ScanFailed, ScanRequest } from '../messages/v1/index.js';

/** Input of `scanUser`: the request as it came from RabbitMQ (or the CLI); the path comes from the database. */
export interface ScanUserInput {
  request: ScanRequest;
  /** Present only when the workflow continued as new: where the walk got to. */
  resume?: ScanResumeState;
}

/** What a scan carries across continue-as-new. */
export interface ScanResumeState {
  scanId: string;
  workDir: string;
  now: string;
  startedAt: string;
  ageBasis: AgeBasis;
  /** The walker's checkpoint (JSON), or undefined before the first chunk. */
  checkpoint?: unknown;
  chunks: number;
}

/** What `scanUser` publishes and `applyScan` takes: a completion or a failure. */
export type ScanOutcome =
  { type: 'scan.completed'; message: ScanCompleted } | { type: 'scan.failed'; message: ScanFailed };

/** What `scanUser` returns: the message it published, or that the request had already been served. */
export type ScanUserResult = ScanOutcome | { type: 'duplicate'; requestId: string; servedBy: string };

/** Input of `applyScan`. */
export type ApplyScanInput = ScanOutcome;

export interface ApplyScanResult {
  /** False when this scan id had already been applied (a replayed message). */
  applied: boolean;
  /** What became of the email this scan called for ('none': it called for none). */
  notification: 'none' | 'sent' | 'already-sent' | 'suppressed' | 'rejected';
}

export interface SweepInput {
  /** Overrides the configured batch size (e.g. `xfc workflow start sweep --batch 2000`). */
  batchSize?: number;
}

export interface SweepResult {
  claimed: string[];
  published: number;
}

/** What the Web UI's list shows for an application, however it was started (by the scan, or by the bridge). */
export function applySummary(input: ApplyScanInput): { staticSummary: string; staticDetails: string } {
  return {
    staticSummary:
      input.type === 'scan.completed'
        ? `Apply the ${input.message.status} scan of ${input.message.username}`
        : `Record the failed scan of ${input.message.username} (${input.message.reason})`,
    staticDetails: `Scan ${input.message.scanId}, request ${input.message.requestId}.`,
  };
}
