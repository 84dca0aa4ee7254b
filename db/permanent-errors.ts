/**
 * Which database errors no retry can fix. Activities retry "until PostgreSQL answers", which is right for a
 * restart or a lost connection, and wrong for an error about the data itself: a value out of range, a constraint
 * violation, a row too large. Those would fail the same way forever (issue 13: a 4 EiB sparse file kept a user's
 * application retrying without end). This names them by SQLSTATE class, so callers can end instead.
 */

/**
 * SQLSTATE classes that describe the statement's data, not the server's state: 22 data exception (e.g. 22003
 * numeric value out of range, 22001 string too long, 22P02 invalid text), 23 integrity constraint violation,
 * 54 program limit exceeded (e.g. a row or index entry too large). Class 42 (privileges, a missing table) is left
 * retryable: an operator fixes it and the retry then succeeds.
 */
const permanentClasses = new Set(['22', '23', '54']);

export interface PermanentDatabaseError {
  sqlstate: string;
  message: string;
}

/** The SQLSTATE and message of a permanent database error anywhere in `err`'s cause chain; undefined otherwise. */
export function permanentDatabaseError(err: unknown): PermanentDatabaseError | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && permanentClasses.has(code.slice(0, 2))) {
      return { sqlstate: code, message: current.message };
    }
    current = current.cause;
  }
  return undefined;
}
