import { sql, type FragmentSqlToken } from 'slonik';

/** A timestamptz parameter from a Date or an ISO-8601 string (exact to the millisecond, unlike to_timestamp()). */
export function timestamptz(value: Date | string): FragmentSqlToken {
  const iso = typeof value === 'string' ? value : value.toISOString();
  return sql.fragment`${iso}::timestamptz`;
}

/** Django's `last_scanned` default: the user has never been measured. */
export const neverScanned = '1900-01-01 00:00:00+00';
