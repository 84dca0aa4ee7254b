import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { UserError, errorMessage } from '../common/errors.js';
import type { XfcConfig } from '../config/env.js';

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(`${variable}=${path} cannot be read (${errorMessage(err)}).`);
  }
}

/**
 * The TLS settings for a Temporal connection (client or worker): undefined for plain TCP (a local dev server);
 * otherwise the system's CAs or TEMPORAL_TLS_CA, and a client certificate for mutual TLS when one is configured.
 */
export function temporalTls(config: Pick<XfcConfig, 'temporal'>): TLSConfig | undefined {
  const tls = config.temporal.tls;
  if (!tls.enabled) return undefined;
  return {
    ...(tls.serverName && { serverNameOverride: tls.serverName }),
    ...(tls.caFile && { serverRootCACertificate: readPem('TEMPORAL_TLS_CA', tls.caFile) }),
    ...(tls.certFile &&
      tls.keyFile && {
        clientCertPair: {
          crt: readPem('TEMPORAL_TLS_CERT', tls.certFile),
          key: readPem('TEMPORAL_TLS_KEY', tls.keyFile),
        },
      }),
  };
}
