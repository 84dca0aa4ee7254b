import { ConfigError } from '../lib/config/env.js';
import { ExitCode, UserError, errorMessage } from '../lib/common/errors.js';

/** Where an error report goes, and whether a person reads it there (tests pass their own). */
export interface ErrorOutput {
  write(line: string): void;
  isTTY: boolean;
}

const stderr: ErrorOutput = {
  write: (line) => process.stderr.write(`${line}\n`),
  isTTY: process.stderr.isTTY,
};

/**
 * Prints an error the way every command does and returns the exit code it deserves. Errors xfc has words for
 * (UserError, ConfigError) are one line for a person. An unexpected one goes through the logger (lib/common/log.ts,
 * loaded only then): its message and stack redacted (a database URL in a driver's error keeps its password out),
 * readable on a terminal, one JSON record where stderr is not one (systemd's journal, cron, a collector) or
 * XFC_LOG_FORMAT=json says so.
 */
export async function reportError(
  err: unknown,
  output: ErrorOutput = stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (err instanceof UserError) {
    output.write(`xfc: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    output.write(`xfc: configuration: ${err.message}`);
    return ExitCode.usage;
  }
  const { createLogger, redactValue } = await import('../lib/common/log.js');
  const explicit = env.XFC_LOG_FORMAT?.trim();
  const format = explicit === 'json' || explicit === 'pretty' ? explicit : output.isTTY ? 'pretty' : 'json';
  if (format === 'pretty') {
    output.write(`xfc: unexpected error: ${String(redactValue(errorMessage(err)))}`);
    if (err instanceof Error && err.stack) output.write(String(redactValue(err.stack)));
  } else {
    const log = createLogger({ component: 'cli', format, write: (line) => output.write(line) });
    log.error({ err, command: process.argv.slice(2, 3).join('') }, 'unexpected error');
  }
  return ExitCode.failure;
}
