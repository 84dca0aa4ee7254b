import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadScanConfig } from '../../lib/config/env.js';

describe('loadConfig', () => {
  it('has defaults that point at local services', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.scan.ageBasis, 'ctime');
    assert.deepEqual(config.scan.exclude, ['.snapshot']);
    assert.equal(config.quotas.temporalByteDays, 300n * 2n ** 40n);
    assert.equal(config.mail.smtpUrlExplicit, false);
  });

  it('names the bad variable and hides passwords', () => {
    assert.throws(
      () => loadConfig({ XFC_AGE_BASIS: 'atime' }),
      /XFC_AGE_BASIS="atime" is not valid: expected one of ctime, mtime/,
    );
    assert.throws(() => loadConfig({ XFC_SWEEP_INTERVAL: 'soon' }), ConfigError);
    assert.throws(
      () => loadConfig({ XFC_AMQP_URL: 'http://user:secret@host' }),
      (err: Error) => err.message.includes('XFC_AMQP_URL') && !err.message.includes('secret'),
    );
    assert.throws(() => loadConfig({ XFC_ROOT: 'relative/dir' }), /XFC_ROOT.*absolute path/);
  });

  it('reads the LDAP lookup only when XFC_LDAP_URL is set, and refuses half a configuration', () => {
    assert.equal(loadConfig({}).ldap, undefined);
    const base = { XFC_LDAP_URL: 'ldaps://ldap.example.org', XFC_LDAP_BASE_DN: 'ou=People,dc=example,dc=org' };
    assert.deepEqual(loadConfig(base).ldap, {
      url: 'ldaps://ldap.example.org',
      baseDn: 'ou=People,dc=example,dc=org',
      userAttribute: 'uid',
      mailAttribute: 'mail',
    });
    assert.throws(() => loadConfig({ XFC_LDAP_URL: base.XFC_LDAP_URL }), /XFC_LDAP_BASE_DN is not/);
    assert.throws(() => loadConfig({ ...base, XFC_LDAP_URL: 'http://ldap' }), /XFC_LDAP_URL.*ldap:\/\/ or ldaps:\/\//);
    assert.throws(() => loadConfig({ ...base, XFC_LDAP_BIND_DN: 'cn=xfc' }), /go together/);
    assert.throws(() => loadConfig({ ...base, XFC_LDAP_MAIL_ATTRIBUTE: 'mail)(x' }), /XFC_LDAP_MAIL_ATTRIBUTE/);
  });
});

describe('loadScanConfig', () => {
  it('reads and checks the scan settings as loadConfig does, and nothing else', () => {
    assert.deepEqual(loadScanConfig({}), loadConfig({}).scan);
    const env = { XFC_AGE_BASIS: 'mtime', XFC_EXCLUDE: '.snapshot, .zfs', XFC_SCAN_THREADS: '16' };
    assert.deepEqual(loadScanConfig(env), loadConfig(env).scan);
    assert.throws(() => loadScanConfig({ XFC_AGE_BASIS: 'atime' }), /XFC_AGE_BASIS="atime" is not valid/);
    assert.throws(
      () => loadScanConfig({ XFC_SCAN_HEARTBEAT_INTERVAL: '40s' }),
      /XFC_SCAN_HEARTBEAT_TIMEOUT .* at least twice/,
    );
    // A service's setting does not stop `xfc scan`.
    assert.equal(loadScanConfig({ XFC_DATABASE_URL: 'not a url', TEMPORAL_TLS: 'maybe' }).ageBasis, 'ctime');
  });
});
