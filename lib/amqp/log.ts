import { createLogger, type LogFormat } from '../common/log.js';

/**
 * Structured logs for the messaging layer, through xfc's one logger (lib/common/log.ts): a time, a level, the
 * component, an event name and the fields that identify the message (messageId, type, username); secrets redacted.
 * Tests pass their own sink (JSON lines).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  (level: LogLevel, event: string, fields?: LogFields): void;
}

const levels = new Set(['error', 'warn', 'info', 'debug']);

export function jsonLogger(component: string, write?: (line: string) => void): Logger {
  const configured = process.env.XFC_LOG_LEVEL?.trim() ?? '';
  const format: LogFormat | undefined = write ? 'json' : undefined;
  const logger = createLogger({
    component,
    level: levels.has(configured) ? configured : write ? 'debug' : 'info',
    ...(format && { format }),
    ...(write && { write }),
  });
  // The event goes in with the fields, not as pino's message (which it writes last): records keep the order
  // time, level, component, event, fields that the bridge's readers (and its tests' patterns) expect.
  return (level, event, fields = {}) => logger[level]({ event, ...fields });
}

/** Discards everything; for callers that have nothing to say. */
export const silentLogger: Logger = () => undefined;
