/**
 * Sizes and byte·days. Sums are BigInt everywhere (byte·days overflow 2^53); people read IEC units (TiB = 2^40)
 * next to the exact figure. Input accepts both IEC and SI units and says which one it means.
 */

export const KiB = 1024n;
export const MiB = KiB * 1024n;
export const GiB = MiB * 1024n;
export const TiB = GiB * 1024n;
export const PiB = TiB * 1024n;
export const EiB = PiB * 1024n;

const unitFactors: Record<string, bigint> = {
  b: 1n,
  kib: KiB,
  mib: MiB,
  gib: GiB,
  tib: TiB,
  pib: PiB,
  eib: EiB,
  kb: 10n ** 3n,
  mb: 10n ** 6n,
  gb: 10n ** 9n,
  tb: 10n ** 12n,
  pb: 10n ** 15n,
  eb: 10n ** 18n,
};

const iecUnits: Array<[bigint, string]> = [
  [EiB, 'EiB'],
  [PiB, 'PiB'],
  [TiB, 'TiB'],
  [GiB, 'GiB'],
  [MiB, 'MiB'],
  [KiB, 'KiB'],
];

/** "12.3 TiB": IEC units, one decimal, for people. Exact figures come from {@link formatExact}. */
export function formatBytes(bytes: bigint): string {
  const negative = bytes < 0n;
  const abs = negative ? -bytes : bytes;
  for (const [factor, name] of iecUnits) {
    if (abs >= factor) return `${negative ? '-' : ''}${tenths(abs, factor)} ${name}`;
  }
  return `${bytes} B`;
}

/** "301.2 TiB·day". */
export function formatByteDays(byteDays: bigint): string {
  return `${formatBytes(byteDays)}·day`;
}

/** "1,234,567": the exact figure with thousands separators. */
export function formatExact(value: bigint): string {
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Percentage of `used` against `quota` as a number (Infinity for a zero quota with usage). */
export function percentOf(used: bigint, quota: bigint): number {
  if (quota <= 0n) return used > 0n ? Infinity : 0;
  // Two decimals of precision in integer arithmetic, then to a number: exact for any realistic quota.
  return Number((used * 10000n) / quota) / 100;
}

/** "87.5 %" (one decimal), or "—" when there is no quota. */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return '—';
  return `${percent.toFixed(1)} %`;
}

function tenths(value: bigint, factor: bigint): string {
  const scaled = (value * 10n + factor / 2n) / factor; // rounded to the nearest tenth
  return `${scaled / 10n}.${scaled % 10n}`;
}

/**
 * Parses a size written by a person: "300TiB", "40 TB", "1.5 PiB", "1099511627776". A trailing "·day", "-day",
 * "day(s)" or "d" is allowed so temporal quotas read naturally. TB means 10^12 and TiB 2^40. Bare K/M/G/T/P are
 * refused because they are ambiguous.
 */
export function parseSize(input: string): bigint {
  const text = input.trim();
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:(?:·|-|\s)?(?:days?|d))?$/.exec(text);
  if (!match) {
    throw new Error(`"${input}" is not a size: write a number and a unit, e.g. 300TiB (2^40 bytes) or 40TB (10^12).`);
  }
  const [, numberText = '', unitText = ''] = match;
  const unit = unitText === '' ? 'b' : unitText.toLowerCase();
  const factor = unitFactors[unit];
  if (factor === undefined) {
    throw new Error(
      `"${input}": unknown unit "${unitText}". Use B, KiB, MiB, GiB, TiB, PiB (powers of 1024) or KB, MB, GB, TB, PB (powers of 1000).`,
    );
  }
  const [whole = '0', fraction = ''] = numberText.split('.');
  const scale = 10n ** BigInt(fraction.length);
  return (BigInt(whole + fraction) * factor) / scale;
}

/** How a parsed size reads back, stating the unit system: "300 TiB (329,853,488,332,800 bytes)". */
export function describeSize(bytes: bigint): string {
  return `${formatBytes(bytes)} (${formatExact(bytes)} bytes)`;
}
