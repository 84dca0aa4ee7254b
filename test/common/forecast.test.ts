import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeForecast, forecastTemporalQuota } from '../../lib/common/forecast.js';
import { TiB } from '../../lib/common/units.js';

describe('forecastTemporalQuota', () => {
  const scannedAt = new Date('2026-11-01T00:00:00Z');

  it('adds the hard usage per day until the quota is reached, rounding up', () => {
    const forecast = forecastTemporalQuota({
      temporalUsed: 100n * TiB,
      temporalQuota: 300n * TiB,
      bytes: 3n * TiB,
      scannedAt,
    });
    assert.deepEqual(forecast, { kind: 'on', days: 67, date: new Date('2027-01-07T00:00:00Z') });
    assert.equal(describeForecast(forecast), '2027-01-07 (in 67 days)');
  });

  it('says when the quota is already reached or never will be', () => {
    assert.equal(
      forecastTemporalQuota({ temporalUsed: 300n * TiB, temporalQuota: 300n * TiB, bytes: 1n, scannedAt }).kind,
      'reached',
    );
    assert.equal(
      forecastTemporalQuota({ temporalUsed: 0n, temporalQuota: 300n * TiB, bytes: 0n, scannedAt }).kind,
      'never',
    );
  });
});
