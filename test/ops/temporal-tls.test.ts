import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NativeConnection } from '@temporalio/worker';
import { xfcSearchAttributes } from '../../cli/ops/search-attribute.js';
import { findTemporalCli } from '../../cli/ops/temporal-dev-server.js';
import { loadConfig } from '../../lib/config/env.js';
import { temporalTls } from '../../lib/temporal/tls.js';
import { doctorTemporalChecks } from '../support/doctor.js';
import { testTemporalKind } from '../support/temporal.js';
import { startOwnTemporalServer, type OwnTemporalServer } from '../support/temporal-server.js';

/**
 * The real Temporal server with mutual TLS on its frontend, as deploy/temporal/config/xfc.yaml configures it from
 * TEMPORAL_TLS_FRONTEND_* (certificates made here with openssl: a CA, the server's certificate for 127.0.0.1 and
 * localhost, a client certificate, and a second CA that must not be trusted). xfc's client (CLI, bridge, doctor) and
 * its workers' native connection reach it with the certificates of the environment, and are refused without them.
 * Real server only: `temporal server start-dev` has no TLS.
 */
const realServer = testTemporalKind() === 'server';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, and certificates it signs: `server` for 127.0.0.1/localhost, `client` for a worker or the CLI. */
function makeCertificates(dir: string): void {
  const ca = (name: string): void =>
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    );
  const signed = (name: string, by: string, extensions: string): void => {
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${by}.pem`,
      '-CAkey',
      `${by}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  ca('xfc-test-ca');
  ca('other-ca');
  signed('server', 'xfc-test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth');
  signed('client', 'xfc-test-ca', 'extendedKeyUsage=clientAuth');
  signed('system-worker', 'xfc-test-ca', 'extendedKeyUsage=clientAuth');
  signed('stranger', 'other-ca', 'extendedKeyUsage=clientAuth');
}

describe('the real Temporal server with mutual TLS', { skip: !realServer && 'needs XFC_TEST_TEMPORAL=server' }, () => {
  let dir: string;
  let server: OwnTemporalServer;
  const file = (name: string): string => join(dir, name);
  const namespace = 'xfc';

  /** xfc's settings for this server, with the given TLS variables. */
  const envFor = (tls: Record<string, string>): Record<string, string> => ({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: namespace,
    ...tls,
  });
  const trusted = (): Record<string, string> => ({
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('xfc-test-ca.pem'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
  });

  const doctorTemporal = doctorTemporalChecks;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xfc-tls-'));
    makeCertificates(dir);
    const clientTls = temporalTls(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', ...trusted() }));
    server = await startOwnTemporalServer({
      env: {
        TEMPORAL_TLS_FRONTEND_CERT: file('server.pem'),
        TEMPORAL_TLS_FRONTEND_KEY: file('server.key'),
        TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
        TEMPORAL_TLS_CLIENT_CA_CERT: file('xfc-test-ca.pem'),
        TEMPORAL_TLS_SERVER_CA_CERT: file('xfc-test-ca.pem'),
        TEMPORAL_TLS_FRONTEND_SERVER_NAME: 'localhost',
        TEMPORAL_TLS_SYSTEM_WORKER_CERT: file('system-worker.pem'),
        TEMPORAL_TLS_SYSTEM_WORKER_KEY: file('system-worker.key'),
      },
      ...(clientTls && { tls: clientTls }),
    });
    // The namespace, registered as an operator would, with the temporal CLI and the client certificate.
    const cli = findTemporalCli();
    assert.ok(cli, 'the temporal CLI is installed');
    const tlsFlags = [
      '--address',
      server.address,
      '--tls-ca-path',
      file('xfc-test-ca.pem'),
      '--tls-cert-path',
      file('client.pem'),
      '--tls-key-path',
      file('client.key'),
    ];
    const temporal = (...args: string[]): void => {
      execFileSync(cli, [...args, ...tlsFlags], { stdio: 'pipe', timeout: 60_000 });
    };
    temporal('operator', 'namespace', 'create', '--namespace', namespace, '--retention', '1d');
    temporal(
      'operator',
      'search-attribute',
      'create',
      '--namespace',
      namespace,
      ...xfcSearchAttributes.flatMap((attribute) => ['--name', attribute.name, '--type', attribute.type]),
    );
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lets xfc’s client and its workers’ native connection in with the configured CA and client certificate', async () => {
    const checks = await doctorTemporal(envFor(trusted()));
    assert.equal(checks.find((check) => check.name === 'frontend')?.status, 'ok', JSON.stringify(checks));
    // The namespace and its search attributes are read through the frontend's own internal client: they answer
    // only if the server's system-worker certificate is configured (deploy/temporal/config/xfc.yaml).
    assert.equal(checks.find((check) => check.name === 'namespace')?.status, 'ok', JSON.stringify(checks));
    assert.equal(checks.find((check) => check.name === 'search attributes')?.status, 'ok', JSON.stringify(checks));

    const config = loadConfig(envFor(trusted()));
    const tls = temporalTls(config);
    const native = await NativeConnection.connect({ address: config.temporal.address, ...(tls && { tls }) });
    try {
      const described = await native.workflowService.describeNamespace({ namespace });
      assert.equal(described.namespaceInfo?.name, namespace);
    } finally {
      await native.close();
    }
  });

  it('is refused without a client certificate, with one from another CA, and when the server’s CA is not trusted', async () => {
    const refusals: Array<[string, Record<string, string>]> = [
      ['no client certificate', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('xfc-test-ca.pem') }],
      [
        'a client certificate of another CA',
        {
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('xfc-test-ca.pem'),
          TEMPORAL_TLS_CLIENT_CERT_PATH: file('stranger.pem'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: file('stranger.key'),
        },
      ],
      [
        'the system CAs only',
        {
          TEMPORAL_TLS: 'true',
          TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
        },
      ],
      ['plain TCP', {}],
    ];
    for (const [what, tls] of refusals) {
      const checks = await doctorTemporal(envFor(tls));
      const frontend = checks.find((check) => check.name === 'frontend');
      assert.equal(frontend?.status, 'fail', `${what}: ${JSON.stringify(checks)}`);
      assert.match(frontend.detail, /handshake failed/, what);
      assert.match(frontend.fix ?? '', /TEMPORAL_TLS/, what);
    }
  });
});
