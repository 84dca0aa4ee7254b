import { parseDuration } from '../common/duration.js';

/** `--since`: a duration back from now ("90d", "52w") or a date ("2026-01-01", an ISO time). */
export function parseSince(input: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(input)) {
    const date = new Date(input.length === 10 ? `${input}T00:00:00Z` : input);
    if (Number.isNaN(date.getTime())) throw new Error(`--since ${input}: not a date; write e.g. 2026-01-01 or 90d.`);
    if (date.getTime() > now.getTime()) throw new Error(`--since ${input} is in the future.`);
    return date;
  }
  let ms: number;
  try {
    ms = parseDuration(input);
  } catch {
    throw new Error(
      `--since ${JSON.stringify(input)}: write a duration back from now (90d, 52w) or a date (2026-01-01).`,
    );
  }
  if (ms <= 0 || ms > 20 * 365 * 86_400_000) throw new Error(`--since ${input}: between 1 ms and 20 years, please.`);
  return new Date(now.getTime() - ms);
}
