const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses "500ms", "30s", "10m", "20h", "7d", "1w" (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(input);
  if (!match) throw new Error(`"${input}" is not a duration: write e.g. 30s, 10m, 20h or 7d.`);
  const [, amount = '0', unit = 'ms'] = match;
  return Math.round(Number(amount) * (unitMs[unit] ?? 1));
}

/** "2 h 5 min", "40 s", "3 d 4 h": a short human duration. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
