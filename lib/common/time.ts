/**
 * The two ways xfc writes a moment: ISO 8601 in UTC for machines (JSON, logs, message fields) and one readable UTC
 * form for people (tables, summaries, emails). Every command uses these two, so a time reads the same everywhere.
 */

/** "2026-11-01T10:00:00.000Z": for JSON and anything a program reads. */
export function isoTime(date: Date): string {
  return date.toISOString();
}

/** "2026-11-01 10:00 UTC" for people; "—" for none. */
export function formatTime(date: Date | null | undefined): string {
  if (!date) return '—';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
