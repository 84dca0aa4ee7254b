import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../lib/config/env.js';
import { temporalTls } from '../../lib/temporal/tls.js';

describe('Temporal TLS settings', () => {
  it('are off by default, so a local dev server is reached over plain TCP', () => {
    assert.equal(temporalTls(loadConfig({})), undefined);
  });

  it('use the system CAs with TEMPORAL_TLS=true, and read the CA and client certificate files', () => {
    assert.deepEqual(temporalTls(loadConfig({ TEMPORAL_TLS: 'true' })), {});
    const dir = mkdtempSync(join(tmpdir(), 'xfc-tls-'));
    for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), `${name} contents`);
    const tls = temporalTls(
      loadConfig({
        TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
        TEMPORAL_TLS_CERT: join(dir, 'cert.pem'),
        TEMPORAL_TLS_KEY: join(dir, 'key.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.example.org',
      }),
    );
    assert.equal(tls?.serverNameOverride, 'temporal.example.org');
    assert.equal(tls?.serverRootCACertificate?.toString(), 'ca.pem contents');
    assert.equal(tls?.clientCertPair?.key.toString(), 'key.pem contents');
  });

  it('refuses half a client certificate and names an unreadable file', () => {
    assert.throws(
      () => loadConfig({ TEMPORAL_TLS_CERT: '/x.pem' }),
      /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/,
    );
    assert.throws(
      () => temporalTls(loadConfig({ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' })),
      /TEMPORAL_TLS_CA=\/nonexistent\/ca.pem cannot be read/,
    );
  });
});
