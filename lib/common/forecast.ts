const dayMs = 86_400_000;

export type TemporalForecast =
  { kind: 'reached'; since: Date } | { kind: 'never' } | { kind: 'on'; date: Date; days: number };

/**
 * When the temporal quota is reached if the user keeps holding what they hold now: every file gains one day of age
 * per day, so temporal usage grows by the hard usage (bytes) each day.
 *
 * @param scannedAt the "now" of the scan that measured `temporalUsed` and `bytes`
 */
export function forecastTemporalQuota(input: {
  temporalUsed: bigint;
  temporalQuota: bigint;
  bytes: bigint;
  scannedAt: Date;
}): TemporalForecast {
  const { temporalUsed, temporalQuota, bytes, scannedAt } = input;
  if (temporalUsed >= temporalQuota) return { kind: 'reached', since: scannedAt };
  if (bytes <= 0n) return { kind: 'never' };
  const remaining = temporalQuota - temporalUsed;
  const days = (remaining + bytes - 1n) / bytes; // whole days, rounded up
  // Beyond ~270,000 years a Date is not representable; such a forecast means "not in any meaningful time".
  if (days > 100_000n) return { kind: 'never' };
  return { kind: 'on', days: Number(days), date: new Date(scannedAt.getTime() + Number(days) * dayMs) };
}

/** "2027-01-14 (in 48 days)", "already reached", "not at the current size". */
export function describeForecast(forecast: TemporalForecast): string {
  switch (forecast.kind) {
    case 'reached':
      return 'already reached';
    case 'never':
      return 'not at the current size';
    case 'on':
      return `${forecast.date.toISOString().slice(0, 10)} (in ${forecast.days} day${forecast.days === 1 ? '' : 's'})`;
  }
}

/** The forecast of a user's row as the database gives it (`users list|show`, the report); null before any scan. */
export function forecastOf(user: {
  lastScanned: Date | null;
  temporalUsed: bigint;
  temporalQuota: bigint;
  hardUsed: bigint;
}): TemporalForecast | null {
  if (!user.lastScanned) return null;
  return forecastTemporalQuota({
    temporalUsed: user.temporalUsed,
    temporalQuota: user.temporalQuota,
    bytes: user.hardUsed,
    scannedAt: user.lastScanned,
  });
}
