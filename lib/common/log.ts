import { Writable } from 'node:stream';
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import { redact } from './redact.js';

/**
 * xfc's one structured logger (pino), for the bridge, the workers (the Temporal runtime's logs are routed into it)
 * and the CLI's errors: JSON lines in production, one readable line per record in a terminal (stdout is a TTY, or
 * XFC_LOG_FORMAT=pretty), secrets redacted before anything is written, level from XFC_LOG_LEVEL.
 */
export type LogFormat = 'json' | 'pretty';
export type XfcLogger = PinoLogger;

export interface LoggerOptions {
  component: string;
  level?: string;
  format?: LogFormat;
  /** Where lines go (tests collect them); stdout by default. */
  write?: (line: string) => void;
}

/** Keys whose values are secrets whatever they hold (signing keys, passwords, API keys, tokens). */
const secretKey =
  /(?:password|passphrase|secret|token|apikey|api_key|signingkey|signing_key|privatekey|authorization)$/i;
/** A URL or connection string with a scheme, anywhere in a string (messages, stack traces). */
const urlInText = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s'"<>]+/g;

/** Redacts every URL in a string (passwords in userinfo and query), and secrets in nested values. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(urlInText, (url) => redact(url));
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: redactValue(value.message), stack: redactValue(value.stack ?? '') };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = secretKey.test(key) && inner !== undefined && inner !== '' ? '***' : redactValue(inner, depth + 1);
  }
  return out;
}

/** The format when XFC_LOG_FORMAT does not say: readable for a person at a terminal, JSON for a collector. */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const explicit = env.XFC_LOG_FORMAT?.trim();
  if (explicit === 'json' || explicit === 'pretty') return explicit;
  return process.stdout.isTTY ? 'pretty' : 'json';
}

/** `12:03:04.567 WARN  bridge  event key=value …` from one JSON record: no dependency, no colours to strip. */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, component, event, ...rest } = record;
  const text = (value: unknown): string =>
    typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const head = `${clock} ${text(level).toUpperCase().padEnd(5)} ${text(component)} ${text(event)}`;
  return fields ? `${head} ${fields}` : head;
}

export function createLogger(options: LoggerOptions): XfcLogger {
  const format = options.format ?? defaultLogFormat();
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) write(format === 'pretty' ? prettyLine(line) : line);
      }
      done();
    },
  });
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: options.component },
      messageKey: 'event',
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Every record's fields pass the redactor: a URL with a password never reaches the output.
        log: (object) => redactValue(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactValue(arg) : arg)) as typeof args;
          method.apply(this, redacted);
        },
      },
    },
    destination,
  );
}
