import { ApplicationFailure } from '@temporalio/common';
import { permanentDatabaseError } from '../db/permanent-errors.js';
import { failureTypes } from '../lib/temporal/failure-types.js';

/**
 * Wraps every activity of an object so that a database error no retry can fix (db/permanent-errors.ts) ends the
 * activity with a non-retryable ApplicationFailure, instead of being retried forever by the "until PostgreSQL
 * answers" retry policies of the control workflows. Everything else passes through unchanged.
 */
export function withPermanentFailures<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    if (typeof activity !== 'function') {
      wrapped[name] = activity;
      continue;
    }
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await (activity as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        throw asPermanentFailure(err) ?? err;
      }
    };
  }
  return wrapped as T;
}

/** The non-retryable failure for a permanent database error; undefined for any other error. */
export function asPermanentFailure(err: unknown): ApplicationFailure | undefined {
  const permanent = permanentDatabaseError(err);
  if (!permanent) return undefined;
  return ApplicationFailure.create({
    type: failureTypes.permanentDatabaseError,
    message: `PostgreSQL refused the data (SQLSTATE ${permanent.sqlstate}): ${permanent.message}. Retrying cannot help.`,
    details: [permanent.sqlstate],
    nonRetryable: true,
  });
}
