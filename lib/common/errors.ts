/** Exit codes shared by every command: scripts can rely on them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /**
   * Incomplete: a scan finished but some entries could not be read (the totals are a lower bound), or `xfc db status`
   * found migrations pending.
   */
  partial: 3,
} as const;

/**
 * An error meant for a person: its message says what went wrong and what to do, and it is printed without a
 * stack trace. Anything else that reaches the top of the CLI is a bug and is printed with its stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad command-line input or configuration: exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/**
 * The message of any thrown value (an Error's message, anything else as a string), for logs and errors shown to
 * people: the one helper for it, where `(err as Error).message` would print `undefined` for a thrown non-Error.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
