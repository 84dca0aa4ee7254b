import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TiB, formatBytes, formatExact, parseSize, percentOf } from '../../lib/common/units.js';

describe('parseSize', () => {
  it('reads IEC and SI units and tells them apart', () => {
    assert.equal(parseSize('300TiB'), 300n * TiB);
    assert.equal(parseSize('40 TB'), 40n * 10n ** 12n);
    assert.equal(parseSize('1.5 PiB'), (3n * 1024n * TiB) / 2n);
    assert.equal(parseSize('1099511627776'), TiB);
    assert.equal(parseSize('300TiB·day'), 300n * TiB);
    assert.equal(parseSize('300 TiB-days'), 300n * TiB);
  });

  it('refuses ambiguous or malformed sizes with a message naming the input', () => {
    assert.throws(() => parseSize('40T'), /unknown unit "T"/);
    assert.throws(() => parseSize('lots'), /"lots" is not a size/);
    assert.throws(() => parseSize('-1TiB'), /is not a size/);
  });
});

describe('formatting', () => {
  it('prints IEC sizes with one decimal and exact figures with separators', () => {
    assert.equal(formatBytes(0n), '0 B');
    assert.equal(formatBytes(1023n), '1023 B');
    assert.equal(formatBytes(1536n), '1.5 KiB');
    assert.equal(formatBytes(300n * TiB), '300.0 TiB');
    assert.equal(formatExact(329853488332800n), '329,853,488,332,800');
  });

  it('computes percentages in integer arithmetic', () => {
    assert.equal(percentOf(45n * TiB, 40n * TiB), 112.5);
    assert.equal(percentOf(0n, 0n), 0);
    assert.equal(percentOf(1n, 0n), Infinity);
  });
});
