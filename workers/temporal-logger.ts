import type { Logger, LogLevel, LogMetadata } from '@temporalio/worker';
import type { XfcLogger } from '../lib/common/log.js';

/**
 * Adapts xfc's logger to the Temporal runtime's Logger (Runtime.install({ logger })): the SDK's messages (worker
 * state, workflow and activity failures) and the core's become records of the same shape as every other xfc log.
 */
export function temporalLogger(logger: XfcLogger): Logger {
  const method = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    logger[method[level]]({ source: 'temporal', ...meta }, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
