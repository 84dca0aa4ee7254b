/**
 * What the activities report to the worker's metrics. The activities define these and the worker implements them
 * (workers/metrics.ts), so an activity never imports the worker that runs it.
 */

/** What the walk activities report. */
export interface ScanMetrics {
  recordChunk(chunk: { files: number; seconds: number }): void;
}

/** What the control activities report. */
export interface ControlMetrics {
  recordScanResult(result: { status: 'complete' | 'partial' | 'failed'; errors: Record<string, number> }): void;
  /** A failed scan applied, by its reason (scan.failed `reason`). */
  recordScanFailure(reason: string): void;
  /** How long a complete or partial scan took, start to finish (all its walk chunks). */
  recordScanDuration(seconds: number): void;
}

/** What the notification activities report: one per decision or send attempt. */
export interface NotifyMetrics {
  /** sent; failed (a send attempt failed and will be retried); rejected (refused for good); suppressed. */
  recordEmail(outcome: 'sent' | 'failed' | 'rejected' | 'suppressed'): void;
}
