import { parseDuration } from '../common/duration.js';
import { parseSize } from '../common/units.js';
import { redact } from '../common/redact.js';
import { errorMessage } from '../common/errors.js';
import {
  readTemporalSettings,
  TemporalSettingsError,
  type TemporalConnectionSettings,
  type TemporalTlsSettings,
} from './temporal-env.js';

/**
 * Everything xfc reads from the environment, validated once at start-up. Every variable has a default that works
 * against local services on their standard ports; secrets come only from the environment (inside the URLs).
 */
/** The site's policy for usage that stays over quota, as the end of the sentence "If … , nothing is deleted: …". */
export const defaultMailPolicy =
  'XFC keeps writing as described below, and the JASMIN team may get in touch to agree a plan with you.';

export interface XfcConfig {
  /** How much the worker processes log: error, warn, info (default) or debug. */
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** XFC_LOG_FORMAT: json lines, or pretty (one readable line); unset: pretty on a terminal, json otherwise. */
  logFormat?: 'json' | 'pretty';
  /**
   * Where `xfc dev` and `xfc demo` keep local state (Temporal's SQLite file, the mail sink's messages, the demo
   * tree), relative to the working directory unless absolute. Production processes do not use it.
   */
  varDir: string;
  databaseUrl: string;
  amqpUrl: string;
  /** 'declare' the RabbitMQ topology at start-up, or only 'check' it exists (least privilege; see docs/security.md). */
  amqpTopology: 'declare' | 'check';
  temporal: {
    address: string;
    namespace: string;
    /** Base URL of the Temporal Web UI, for links printed by the CLI and shown in logs. */
    uiUrl: string;
    controlTaskQueue: string;
    scanTaskQueue: string;
    /** API key (TEMPORAL_API_KEY or the profile's): sent as a bearer token, and turns TLS on. Never printed. */
    apiKey?: string;
    /** The config-file profile in use (TEMPORAL_PROFILE), if one was named. */
    profile?: string;
    /** TLS to the Temporal frontend: off unless TEMPORAL_TLS=true, a certificate or an API key is given. */
    tls: TemporalTlsSettings;
    /** Deprecated variables in use (TEMPORAL_TLS_CA, …): each connecting process prints these once. */
    deprecations: string[];
  };
  mail: {
    /** smtp://, smtps:// (implicit TLS); query options such as ?requireTLS=true are passed to nodemailer. */
    smtpUrl: string;
    /** Set only when XFC_SMTP_URL was given explicitly (`xfc dev` runs a local sink otherwise). */
    smtpUrlExplicit: boolean;
    from: string;
    contact: string;
    /** Reply-To of every email (XFC_MAIL_REPLY_TO), e.g. the helpdesk; unset: replies go to From. */
    replyTo?: string;
    /** A page that explains XFC and its quotas (XFC_MAIL_HELP_URL), linked from every email. */
    helpUrl?: string;
    /** What happens when usage stays over quota (XFC_MAIL_POLICY): the end of one calm sentence. */
    policy: string;
  };
  scan: {
    /** Directory under which every user's work directory must lie. */
    root: string;
    ageBasis: 'ctime' | 'mtime';
    /** Names never descended into, e.g. `.snapshot`. */
    exclude: string[];
    /** Walker threads (metadata requests in flight); 0 = choose from the CPU count. */
    threads: number;
    /** Walks one scan worker runs at the same time. */
    maxConcurrentWalks: number;
    /** How long one walk activity runs before it returns a checkpoint and the workflow starts the next one. */
    chunkMs: number;
    /** How often a walk heartbeats its checkpoint: after a crash at most this much walking is redone. */
    heartbeatIntervalMs: number;
    /** How long Temporal waits without a heartbeat before it retries a walk on another worker. */
    heartbeatTimeoutMs: number;
  };
  sweep: {
    intervalMs: number;
    batchSize: number;
    /** Users scanned more recently than this are not claimed again. */
    rescanAfterMs: number;
    /** An outstanding request older than this is considered lost and the user may be claimed again. */
    requestLeaseMs: number;
  };
  notify: {
    warnPercent: number;
    overPercent: number;
    reminderIntervalMs: number;
    minIntervalMs: number;
  };
  /**
   * Where `xfc users backfill` looks up addresses of users the emails file does not name: off unless
   * XFC_LDAP_URL is set. Anonymous unless a bind DN and password are given.
   */
  ldap?: {
    url: string;
    baseDn: string;
    bindDn?: string;
    password?: string;
    /** The attribute that holds the account name (uid) and the one that holds the address (mail). */
    userAttribute: string;
    mailAttribute: string;
  };
  quotas: {
    /** Default temporal quota for new users, byte·days. */
    temporalByteDays: bigint;
    /** Default hard quota for new users, bytes. */
    hardBytes: bigint;
  };
  bridge: {
    /** Unacknowledged deliveries per queue the bridge holds at once (AMQP prefetch). */
    prefetch: number;
  };
  /**
   * Shared secret that signs scan results published on RabbitMQ (control worker) and authenticates them (bridge);
   * unset: results are not signed and the bridge applies none from RabbitMQ (xfc's own go through Temporal).
   */
  resultSigningKey?: string;
  /** The live report (`xfc report serve`, and `xfc dev`): where it listens. */
  report: { host: string; port: number };
  metrics: {
    /** Port of xfc's own Prometheus endpoint (0 = off). */
    port: number;
    /** Port of the Temporal SDK runtime's Prometheus endpoint (0 = off). */
    temporalPort: number;
    /** Database-derived gauges (users unscanned, over quota, last sweep) are refreshed at most this often, ms. */
    databaseGaugesMaxAgeMs: number;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; a bad value throws a ConfigError that names the variable. */
export function loadConfig(env: Env = process.env): XfcConfig {
  const read = new EnvReader(env);
  const temporal = read.temporal();
  const smtpUrl = env.XFC_SMTP_URL;
  const config: XfcConfig = {
    logLevel: read.oneOf('XFC_LOG_LEVEL', 'info', ['error', 'warn', 'info', 'debug'] as const),
    ...(env.XFC_LOG_FORMAT?.trim() && { logFormat: read.oneOf('XFC_LOG_FORMAT', 'json', ['json', 'pretty'] as const) }),
    varDir: read.string('XFC_VAR_DIR', 'var'),
    databaseUrl: read.url('XFC_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/xfc', ['postgres:', 'postgresql:']),
    amqpUrl: read.url('XFC_AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp:', 'amqps:']),
    amqpTopology: read.oneOf('XFC_AMQP_TOPOLOGY', 'declare', ['declare', 'check'] as const),
    temporal: {
      address: temporal.address,
      namespace: temporal.namespace,
      ...(temporal.apiKey !== undefined && { apiKey: temporal.apiKey }),
      ...(temporal.profile !== undefined && { profile: temporal.profile }),
      deprecations: temporal.deprecations,
      uiUrl: read.url('XFC_TEMPORAL_UI_URL', 'http://127.0.0.1:8233', ['http:', 'https:']).replace(/\/$/, ''),
      controlTaskQueue: read.string('XFC_CONTROL_TASK_QUEUE', 'xfc-control'),
      scanTaskQueue: read.string('XFC_SCAN_TASK_QUEUE', 'xfc-scan'),
      tls: temporal.tls,
    },
    mail: {
      smtpUrl: read.url('XFC_SMTP_URL', 'smtp://127.0.0.1:25', ['smtp:', 'smtps:']),
      smtpUrlExplicit: smtpUrl !== undefined && smtpUrl !== '',
      from: read.string('XFC_MAIL_FROM', 'JASMIN XFC <xfc-noreply@localhost>'),
      contact: read.string('XFC_MAIL_CONTACT', 'the JASMIN helpdesk, support@jasmin.ac.uk'),
      ...(read.string('XFC_MAIL_REPLY_TO', '') !== '' ? { replyTo: read.string('XFC_MAIL_REPLY_TO', '') } : {}),
      ...(read.string('XFC_MAIL_HELP_URL', '') !== ''
        ? { helpUrl: read.url('XFC_MAIL_HELP_URL', 'https://help.jasmin.ac.uk/', ['https:', 'http:']) }
        : {}),
      policy: read.string('XFC_MAIL_POLICY', defaultMailPolicy),
    },
    scan: readScan(read),
    sweep: {
      intervalMs: read.duration('XFC_SWEEP_INTERVAL', '10m', 1_000),
      batchSize: read.integer('XFC_SWEEP_BATCH_SIZE', 50, 1, 100_000),
      rescanAfterMs: read.duration('XFC_RESCAN_AFTER', '20h', 0),
      requestLeaseMs: read.duration('XFC_REQUEST_LEASE', '12h', 60_000),
    },
    notify: {
      warnPercent: read.number('XFC_NOTIFY_WARN_PERCENT', 90, 1, 1000),
      overPercent: read.number('XFC_NOTIFY_OVER_PERCENT', 100, 1, 1000),
      reminderIntervalMs: read.duration('XFC_NOTIFY_REMINDER_INTERVAL', '7d', 0),
      minIntervalMs: read.duration('XFC_NOTIFY_MIN_INTERVAL', '1d', 0),
    },
    ...read.ldap(),
    quotas: {
      temporalByteDays: read.size('XFC_DEFAULT_TEMPORAL_QUOTA', '300TiB'),
      hardBytes: read.size('XFC_DEFAULT_HARD_QUOTA', '40TiB'),
    },
    bridge: {
      prefetch: read.integer('XFC_BRIDGE_PREFETCH', 10, 1, 1000),
    },
    ...read.secret('resultSigningKey', 'XFC_RESULT_SIGNING_KEY', 32),
    metrics: {
      port: read.integer('XFC_METRICS_PORT', 9464, 0, 65535),
      temporalPort: read.integer('XFC_TEMPORAL_METRICS_PORT', 9465, 0, 65535),
      databaseGaugesMaxAgeMs: read.integer('XFC_METRICS_DB_MAX_AGE_MS', 15_000, 0, 3_600_000),
    },
    report: {
      host: read.string('XFC_REPORT_HOST', '127.0.0.1'),
      port: read.integer('XFC_REPORT_PORT', 9466, 0, 65535),
    },
  };
  if (config.notify.warnPercent > config.notify.overPercent) {
    throw new ConfigError(
      `XFC_NOTIFY_WARN_PERCENT (${config.notify.warnPercent}) must not exceed XFC_NOTIFY_OVER_PERCENT (${config.notify.overPercent}).`,
    );
  }
  return config;
}

/**
 * Only the scan settings (XFC_ROOT, XFC_AGE_BASIS, XFC_EXCLUDE, XFC_SCAN_*), validated as loadConfig validates them.
 * `xfc scan` needs nothing else, and reading everything costs it start-up time: the Temporal settings load
 * @temporalio/envconfig and read its config file (~25 ms of CPU, timed against du), and a variable meant for the
 * services, such as a malformed XFC_DATABASE_URL, must not stop a one-off scan of a directory.
 */
export function loadScanConfig(env: Env = process.env): XfcConfig['scan'] {
  return readScan(new EnvReader(env));
}

function readScan(read: EnvReader): XfcConfig['scan'] {
  const scan = {
    root: read.absolutePath('XFC_ROOT', '/work/xfc'),
    ageBasis: read.oneOf('XFC_AGE_BASIS', 'ctime', ['ctime', 'mtime'] as const),
    exclude: read.list('XFC_EXCLUDE', ['.snapshot']),
    threads: read.integer('XFC_SCAN_THREADS', 0, 0, 256),
    maxConcurrentWalks: read.integer('XFC_SCAN_MAX_WALKS', 4, 1, 64),
    chunkMs: read.duration('XFC_SCAN_CHUNK', '5m', 1_000),
    heartbeatIntervalMs: read.duration('XFC_SCAN_HEARTBEAT_INTERVAL', '5s', 100),
    heartbeatTimeoutMs: read.duration('XFC_SCAN_HEARTBEAT_TIMEOUT', '60s', 2_000),
  };
  if (scan.heartbeatIntervalMs * 2 > scan.heartbeatTimeoutMs) {
    throw new ConfigError(
      `XFC_SCAN_HEARTBEAT_TIMEOUT (${scan.heartbeatTimeoutMs} ms) must be at least twice XFC_SCAN_HEARTBEAT_INTERVAL (${scan.heartbeatIntervalMs} ms), or healthy walks would time out.`,
    );
  }
  return scan;
}

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private fail(name: string, value: string, expected: string): never {
    throw new ConfigError(`${name}=${JSON.stringify(value)} is not valid: expected ${expected}.`);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.raw(name) ?? fallback;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.fail(name, redact(value), `a URL such as ${fallback}`);
    }
    if (!protocols.includes(url.protocol)) {
      this.fail(name, redact(value), `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    }
    return value;
  }

  absolutePath(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    if (!value.startsWith('/')) this.fail(name, value, 'an absolute path');
    return value.length > 1 ? value.replace(/\/+$/, '') : value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) this.fail(name, value, `one of ${allowed.join(', ')}`);
    return value as T;
  }

  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.fail(name, value, `a whole number from ${min} to ${max}`);
    }
    return parsed;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max)
      this.fail(name, value, `a number from ${min} to ${max}`);
    return parsed;
  }

  duration(name: string, fallback: string, minMs: number): number {
    const value = this.raw(name) ?? fallback;
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      return this.fail(name, value, 'a duration such as 30s, 10m, 20h or 7d');
    }
    if (ms < minMs) this.fail(name, value, `at least ${minMs} ms`);
    return ms;
  }

  /** TEMPORAL_* and the Temporal config file's profile, through @temporalio/envconfig (lib/config/temporal-env.ts). */
  temporal(): TemporalConnectionSettings {
    try {
      return readTemporalSettings(this.env);
    } catch (err) {
      if (err instanceof TemporalSettingsError) throw new ConfigError(err.message);
      throw err;
    }
  }

  /** XFC_LDAP_URL, XFC_LDAP_BASE_DN, XFC_LDAP_BIND_DN, XFC_LDAP_PASSWORD, XFC_LDAP_USER_ATTRIBUTE, …_MAIL_ATTRIBUTE. */
  ldap(): Pick<XfcConfig, 'ldap'> {
    const url = this.raw('XFC_LDAP_URL');
    if (url === undefined) return {};
    this.url('XFC_LDAP_URL', url, ['ldap:', 'ldaps:']);
    const baseDn = this.raw('XFC_LDAP_BASE_DN');
    if (baseDn === undefined) {
      throw new ConfigError(
        'XFC_LDAP_URL is set but XFC_LDAP_BASE_DN is not: name the subtree that holds the accounts, e.g. ou=People,dc=example,dc=org.',
      );
    }
    const bindDn = this.raw('XFC_LDAP_BIND_DN');
    const password = this.raw('XFC_LDAP_PASSWORD');
    if ((bindDn === undefined) !== (password === undefined)) {
      throw new ConfigError('XFC_LDAP_BIND_DN and XFC_LDAP_PASSWORD go together: set both, or neither (anonymous).');
    }
    const attribute = (name: string, fallback: string): string => {
      const value = this.string(name, fallback);
      if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(value)) this.fail(name, value, 'an LDAP attribute name such as uid or mail');
      return value;
    };
    return {
      ldap: {
        url,
        baseDn,
        ...(bindDn !== undefined && { bindDn }),
        ...(password !== undefined && { password }),
        userAttribute: attribute('XFC_LDAP_USER_ATTRIBUTE', 'uid'),
        mailAttribute: attribute('XFC_LDAP_MAIL_ATTRIBUTE', 'mail'),
      },
    };
  }

  /** An optional secret of at least `minLength` characters; the error never shows its value. */
  secret<K extends string>(key: K, name: string, minLength: number): Partial<Record<K, string>> {
    const value = this.raw(name);
    if (value === undefined) return {};
    if (value.length < minLength) {
      throw new ConfigError(
        `${name} is too short (${value.length} characters): use at least ${minLength}, e.g. \`openssl rand -hex 32\`.`,
      );
    }
    return { [key]: value } as Partial<Record<K, string>>;
  }

  size(name: string, fallback: string): bigint {
    const value = this.raw(name) ?? fallback;
    try {
      return parseSize(value);
    } catch (err) {
      return this.fail(name, value, `a size such as 300TiB or 40TB (${errorMessage(err)})`);
    }
  }
}

/** Hides the secrets of a URL or connection string before it is printed (one redactor: lib/common/redact.ts). */
export { redact };
