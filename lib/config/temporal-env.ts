import { createRequire } from 'node:module';
import type * as Envconfig from '@temporalio/envconfig';
import type { ClientConfigProfile, ConfigDataSource } from '@temporalio/envconfig';

/**
 * @temporalio/envconfig (CommonJS, with a TOML parser) is loaded when settings are first read, not when this module
 * is: lib/config/env.ts imports this module, and `xfc scan`, which reads only the scan settings (loadScanConfig),
 * should not pay ~25 ms of start-up for it.
 */
const loadCommonJs = createRequire(import.meta.url);
function loadClientConfigProfile(...args: Parameters<typeof Envconfig.loadClientConfigProfile>): ClientConfigProfile {
  const envconfig = loadCommonJs('@temporalio/envconfig') as typeof Envconfig;
  return envconfig.loadClientConfigProfile(...args);
}

/**
 * The Temporal connection settings, read as Temporal's own tools read them (`@temporalio/envconfig`): TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_PATH,
 * TEMPORAL_TLS_CLIENT_KEY_PATH (or their …_DATA forms), TEMPORAL_TLS_SERVER_NAME, and a profile (TEMPORAL_PROFILE) of
 * the config file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml); variables override the profile.
 */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  /** The profile read from the config file, when one was named (TEMPORAL_PROFILE). */
  profile?: string;
  tls: TemporalTlsSettings;
  /** One line per deprecated variable still in use, for the connecting process to print once. */
  deprecations: string[];
}

export interface TemporalTlsSettings {
  /** On when TEMPORAL_TLS=true, a certificate is given, or an API key is (the SDK's rule); TEMPORAL_TLS=false wins. */
  enabled: boolean;
  serverCa?: ConfigDataSource;
  clientCert?: ConfigDataSource;
  clientKey?: ConfigDataSource;
  serverName?: string;
}

/** The variables (with TEMPORAL_TLS_SERVER_NAME and the …_DATA forms) that xfc documents; the README lists them. */
export const temporalVariables = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/**
 * xfc's names before it used envconfig, accepted for one release (0.2 drops them), each mapped to Temporal's name.
 * The new name wins when both are set.
 */
export const deprecatedTemporalVariables = [
  ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
  ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
  ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
] as const;

/** Thrown for a setting that cannot be used; lib/config/env.ts turns it into its ConfigError. */
export class TemporalSettingsError extends Error {}

type Env = Record<string, string | undefined>;

/** Pure: the environment with the deprecated names mapped onto Temporal's, and a warning for each one used. */
export function mapDeprecatedTemporalVariables(env: Env): { env: Record<string, string>; deprecations: string[] } {
  const mapped: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') mapped[name] = value.trim();
  }
  const deprecations: string[] = [];
  for (const [old, current] of deprecatedTemporalVariables) {
    const value = mapped[old];
    if (value === undefined) continue;
    delete mapped[old];
    if (mapped[current] === undefined) {
      mapped[current] = value;
      deprecations.push(`${old} is deprecated and will be removed in the next release: rename it ${current}.`);
    } else {
      deprecations.push(`${old} is deprecated and ignored because ${current} is set: remove ${old}.`);
    }
  }
  return { env: mapped, deprecations };
}

/**
 * The profile from the environment and the config file. The file at its default place (~/.config/temporalio/) is
 * optional: where it cannot be read at all — a scan worker running as an unprivileged account whose HOME is still
 * root's, whose ~/.config/temporalio the temporal CLI made 0700 — the environment alone configures the connection.
 * A file named by TEMPORAL_CONFIG_FILE, or a profile named by TEMPORAL_PROFILE, must be readable.
 */
function loadProfile(mapped: Record<string, string>): ClientConfigProfile {
  try {
    return loadClientConfigProfile({ overrideEnvVars: mapped });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const chosen = mapped.TEMPORAL_CONFIG_FILE !== undefined || mapped.TEMPORAL_PROFILE !== undefined;
    if (chosen || (code !== 'EACCES' && code !== 'EPERM')) throw err;
    return loadClientConfigProfile({ overrideEnvVars: mapped, disableFile: true });
  }
}

/** Reads the settings from `env` (and the profile file it names); throws TemporalSettingsError naming the problem. */
export function readTemporalSettings(env: Env): TemporalConnectionSettings {
  const { env: mapped, deprecations } = mapDeprecatedTemporalVariables(env);
  let profile: ClientConfigProfile;
  try {
    profile = loadProfile(mapped);
  } catch (err) {
    const file = mapped.TEMPORAL_CONFIG_FILE ?? '~/.config/temporalio/temporal.toml';
    throw new TemporalSettingsError(
      `The Temporal client configuration cannot be read (${(err as Error).message}; profile ${mapped.TEMPORAL_PROFILE ?? 'default'} of ${file}). Fix the file, or unset TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE.`,
    );
  }
  if (mapped.TEMPORAL_TLS !== undefined && !['true', 'false', '1', '0'].includes(mapped.TEMPORAL_TLS)) {
    throw new TemporalSettingsError(
      `TEMPORAL_TLS=${JSON.stringify(mapped.TEMPORAL_TLS)} is not valid: expected true or false.`,
    );
  }
  const tls = profile.tls;
  if ((tls?.clientCert === undefined) !== (tls?.clientKey === undefined)) {
    throw new TemporalSettingsError(
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both (mutual TLS) or neither.',
    );
  }
  const enabled = tls?.disabled === true ? false : tls !== undefined || profile.apiKey !== undefined;
  return {
    address: profile.address ?? '127.0.0.1:7233',
    namespace: profile.namespace ?? 'default',
    ...(profile.apiKey !== undefined && { apiKey: profile.apiKey }),
    ...(mapped.TEMPORAL_PROFILE !== undefined && { profile: mapped.TEMPORAL_PROFILE }),
    tls: {
      enabled,
      ...(tls?.serverCACert && { serverCa: tls.serverCACert }),
      ...(tls?.clientCert && { clientCert: tls.clientCert }),
      ...(tls?.clientKey && { clientKey: tls.clientKey }),
      ...(tls?.serverName && { serverName: tls.serverName }),
    },
    deprecations,
  };
}
