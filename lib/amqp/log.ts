/**
 * Structured logs for the messaging layer: one JSON object per line, with a time, a level, the component, an event
 * name and the fields that identify the message (messageId, type, username). Tests pass their own sink.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  (level: LogLevel, event: string, fields?: LogFields): void;
}

export function jsonLogger(component: string, write: (line: string) => void = (line) => console.log(line)): Logger {
  return (level, event, fields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, component, event, ...fields }));
  };
}

/** Discards everything; for callers that have nothing to say. */
export const silentLogger: Logger = () => undefined;
