import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ScanUserResult } from './contracts.js';
import { failureTypes } from './failure-types.js';

/**
 * The result of a `scanUser` run, whichever way it ended: a scan that ends in scan.failed fails its workflow (so the
 * Web UI shows it as Failed) with the published message as the failure's details; runs from before that change
 * complete with it. Any other failure (terminated, timed out, a bug) is rethrown.
 */
export async function scanResult(handle: Pick<WorkflowHandle, 'result'>): Promise<ScanUserResult> {
  try {
    return (await handle.result()) as ScanUserResult;
  } catch (err) {
    const failed = failedScanResult(err);
    if (failed) return failed;
    throw err;
  }
}

/** The scan.failed result a failed `scanUser` run carries, if `err` is that failure. */
export function failedScanResult(err: unknown): ScanUserResult | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== failureTypes.scanFailed) return undefined;
  const detail = cause.details?.[0] as ScanUserResult | undefined;
  return detail?.type === 'scan.failed' ? detail : undefined;
}
