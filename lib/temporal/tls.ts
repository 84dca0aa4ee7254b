import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { ConfigDataSource } from '@temporalio/envconfig';
import { UserError, errorMessage } from '../common/errors.js';
import type { XfcConfig } from '../config/env.js';

function readPem(variable: string, source: ConfigDataSource): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new UserError(`${variable}=${source.path} cannot be read (${errorMessage(err)}).`);
  }
}

/**
 * The TLS settings for a Temporal connection (client or worker): undefined for plain TCP (a local dev server);
 * otherwise the system's CAs or TEMPORAL_TLS_SERVER_CA_CERT_PATH, and a client certificate for mutual TLS when one
 * is configured.
 */
export function temporalTls(config: Pick<XfcConfig, 'temporal'>): TLSConfig | undefined {
  const tls = config.temporal.tls;
  if (!tls.enabled) return undefined;
  return {
    ...(tls.serverName && { serverNameOverride: tls.serverName }),
    ...(tls.serverCa && { serverRootCACertificate: readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', tls.serverCa) }),
    ...(tls.clientCert &&
      tls.clientKey && {
        clientCertPair: {
          crt: readPem('TEMPORAL_TLS_CLIENT_CERT_PATH', tls.clientCert),
          key: readPem('TEMPORAL_TLS_CLIENT_KEY_PATH', tls.clientKey),
        },
      }),
  };
}

const warned = new Set<string>();

/**
 * What every Temporal connection of xfc (CLI, workers, bridge, doctor) is made with: address, TLS and API key. Prints
 * each deprecation (an old TEMPORAL_TLS_* name in use) once per process, on stderr.
 */
export function temporalConnectionOptions(config: Pick<XfcConfig, 'temporal'>): {
  address: string;
  tls: TLSConfig | false;
  apiKey?: string;
} {
  for (const line of config.temporal.deprecations) {
    if (warned.has(line)) continue;
    warned.add(line);
    process.stderr.write(`xfc: warning: ${line}\n`);
  }
  return {
    address: config.temporal.address,
    tls: temporalTls(config) ?? false,
    ...(config.temporal.apiKey !== undefined && { apiKey: config.temporal.apiKey }),
  };
}
