import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../lib/config/env.js';
import { mapDeprecatedTemporalVariables } from '../../lib/config/temporal-env.js';
import { connectTemporal } from '../../lib/temporal/client.js';
import { temporalConnectionOptions, temporalTls } from '../../lib/temporal/tls.js';
import { startTestTemporal } from '../support/temporal.js';

function pemDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xfc-tls-'));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), `${name} contents`);
  return dir;
}

describe('Temporal connection settings (@temporalio/envconfig)', () => {
  it('are off by default, so a local dev server is reached over plain TCP', () => {
    const config = loadConfig({});
    assert.equal(temporalTls(config), undefined);
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.deepEqual(config.temporal.deprecations, []);
  });

  it('use the system CAs with TEMPORAL_TLS=true, and read Temporal’s TLS variables', () => {
    assert.deepEqual(temporalTls(loadConfig({ TEMPORAL_TLS: 'true' })), {});
    const dir = pemDir();
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.example.org:7233',
      TEMPORAL_NAMESPACE: 'xfc',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'cert.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'key.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example.org',
    });
    assert.equal(config.temporal.address, 'temporal.example.org:7233');
    assert.equal(config.temporal.namespace, 'xfc');
    const tls = temporalTls(config);
    assert.equal(tls?.serverNameOverride, 'temporal.example.org');
    assert.equal(tls?.serverRootCACertificate?.toString(), 'ca.pem contents');
    assert.equal(tls?.clientCertPair?.crt.toString(), 'cert.pem contents');
    assert.equal(tls?.clientCertPair?.key.toString(), 'key.pem contents');
    assert.deepEqual(config.temporal.deprecations, []);
    // TEMPORAL_TLS=false wins, as in Temporal's tools.
    assert.equal(temporalTls(loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/x' })), undefined);
  });

  it('send TEMPORAL_API_KEY and turn TLS on for it', () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'secret-key' }));
    assert.equal(options.apiKey, 'secret-key');
    assert.deepEqual(options.tls, {});
  });

  it('still accept the deprecated TEMPORAL_TLS_CA/CERT/KEY, with one warning line each', () => {
    const dir = pemDir();
    const config = loadConfig({
      TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
      TEMPORAL_TLS_CERT: join(dir, 'cert.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'key.pem'),
    });
    const tls = temporalTls(config);
    assert.equal(tls?.serverRootCACertificate?.toString(), 'ca.pem contents');
    assert.equal(tls?.clientCertPair?.key.toString(), 'key.pem contents');
    assert.deepEqual(config.temporal.deprecations, [
      'TEMPORAL_TLS_CA is deprecated and will be removed in the next release: rename it TEMPORAL_TLS_SERVER_CA_CERT_PATH.',
      'TEMPORAL_TLS_CERT is deprecated and will be removed in the next release: rename it TEMPORAL_TLS_CLIENT_CERT_PATH.',
      'TEMPORAL_TLS_KEY is deprecated and will be removed in the next release: rename it TEMPORAL_TLS_CLIENT_KEY_PATH.',
    ]);
  });

  it('map the deprecated names purely: the new name wins, blanks are unset', () => {
    assert.deepEqual(
      mapDeprecatedTemporalVariables({
        TEMPORAL_TLS_CA: '/old/ca.pem',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/new/ca.pem',
        TEMPORAL_TLS_KEY: '  ',
        TEMPORAL_ADDRESS: 'a:1',
      }),
      {
        env: { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/new/ca.pem', TEMPORAL_ADDRESS: 'a:1' },
        deprecations: [
          'TEMPORAL_TLS_CA is deprecated and ignored because TEMPORAL_TLS_SERVER_CA_CERT_PATH is set: remove TEMPORAL_TLS_CA.',
        ],
      },
    );
  });

  it('refuse half a client certificate, a missing profile, and name an unreadable file', () => {
    assert.throws(
      () => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' }),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    );
    assert.throws(
      () => loadConfig({ TEMPORAL_TLS_CERT: '/x.pem' }),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    );
    const file = join(pemDir(), 'temporal.toml');
    writeFileSync(file, '[profile.default]\naddress = "127.0.0.1:1"\n');
    assert.throws(
      () => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }),
      /Profile 'nope' not found.*unset TEMPORAL_PROFILE/,
    );
    assert.throws(
      () => temporalTls(loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' })),
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH=\/nonexistent\/ca.pem cannot be read/,
    );
  });

  it('connect with a profile of the Temporal config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)', async () => {
    const temporal = await startTestTemporal({ kind: 'dev' });
    try {
      const file = join(pemDir(), 'temporal.toml');
      // The default profile points nowhere: only the named profile reaches the server.
      writeFileSync(
        file,
        [
          '[profile.default]',
          'address = "127.0.0.1:1"',
          '',
          '[profile.xfc-test]',
          `address = "${temporal.address}"`,
          `namespace = "${temporal.namespace}"`,
          '',
        ].join('\n'),
      );
      const config = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'xfc-test' });
      assert.equal(config.temporal.address, temporal.address);
      assert.equal(config.temporal.profile, 'xfc-test');
      const client = await connectTemporal(config);
      try {
        const info = await client.workflowService.getSystemInfo({});
        assert.ok(info.capabilities, 'the server answered');
      } finally {
        await client.connection.close();
      }
    } finally {
      await temporal.stop();
    }
  });
});
