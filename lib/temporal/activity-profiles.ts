import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { failureTypes } from './failure-types.js';

/**
 * How the workflows call their activities: every timeout and retry policy in one place, built from named numbers.
 * Pure (workflow code imports it). The activities import the notification timings too, because the send
 * attempt's own limits and Temporal's must fit inside each other.
 */

/** Retry until the dependency (PostgreSQL, RabbitMQ) answers again: 1 s, doubling, capped at a minute, no limit. */
export const retryUntilAnswered: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
};

/**
 * The control steps of scanUser and applyScan (recording, publishing, handing off): short transactions whose usual
 * failure is PostgreSQL or RabbitMQ being restarted, so they retry indefinitely (a scan must end in exactly one
 * published result, and a result must be recorded). Since patch 'local-control-steps' they run as local activities
 * on the control worker, with this same policy.
 */
export const controlStepOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: retryUntilAnswered,
};

/**
 * The sweep's claiming and publishing: retried only for a few minutes, because the next scheduled sweep tries again
 * anyway and overlap policy SKIP means a stuck sweep would block the next.
 */
export const sweepStepOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '8 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/**
 * The first check of a work directory: quick, and it waits in the queue while no scan worker is running. Only runs
 * from before patch 'local-control-steps' still make it (the first walk chunk checks the directory itself).
 */
export function inspectWorkDirOptions(taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: '1 minute',
    retry: {
      initialInterval: '5 seconds',
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: [failureTypes.workDirRefused],
    },
  };
}

/** The margin a walk chunk gets beyond its walking budget, for resuming and the last heartbeat. */
export const walkChunkMarginMs = 2 * 60_000;

/** A walk that fails this many times in a row (each resuming) has a cause a person must look at: report it. */
export const walkChunkMaxAttempts = 10;

/**
 * One walk chunk: it walks for `chunkMs`, then returns a checkpoint. A killed worker is noticed after
 * `heartbeatTimeoutMs`; the retry resumes from the last heartbeat's checkpoint.
 */
export function walkChunkOptions(target: {
  taskQueue: string;
  chunkMs: number;
  heartbeatTimeoutMs: number;
}): ActivityOptions {
  return {
    taskQueue: target.taskQueue,
    startToCloseTimeout: target.chunkMs + walkChunkMarginMs,
    heartbeatTimeout: target.heartbeatTimeoutMs,
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: walkChunkMaxAttempts,
      nonRetryableErrorTypes: [failureTypes.workDirRefused, failureTypes.checkpointRefused],
    },
  };
}

/**
 * The timings of one notification send attempt, which must nest: the activity abandons the SMTP exchange first,
 * Temporal times the attempt out next, and only after that may another attempt take the outbox row, so two
 * attempts never send the same row at once. test/temporal/activity-profiles.test.ts keeps the order.
 */
export const sendAttemptTiming = {
  /** The activity abandons one attempt's SMTP exchange after this long. */
  smtpTimeoutMs: 90_000,
  /** Temporal counts the attempt as failed after this long (start-to-close). */
  attemptTimeoutMs: 2 * 60_000,
  /** One attempt holds its outbox row this long before another attempt may take it. */
  rowLeaseMs: 3 * 60_000,
} as const;

/** Deciding a notification: one short transaction, idempotent per scan id, retried until PostgreSQL answers. */
export const decideNotificationOptions: ActivityOptions = controlStepOptions;

/**
 * Sending: SMTP may be down for hours, so retry with backoff from 10 s to every 10 min, for up to 3 days (after
 * that the row stays pending and a later reminder or all-clear supersedes it). Permanent refusals are not retried:
 * the activity records them and returns 'rejected'.
 */
export const sendNotificationOptions: ActivityOptions = {
  startToCloseTimeout: sendAttemptTiming.attemptTimeoutMs,
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};
