import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config/env.js';

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
});
