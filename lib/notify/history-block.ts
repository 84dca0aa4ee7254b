import { formatByteDays, formatBytes, formatPercent, percentOf } from '../common/units.js';

/**
 * "Your recent scans" in an email: the last few measurements, oldest first, as a table in the text part and as a
 * table with CSS bars in the HTML part (mail clients draw neither SVG nor scripts; a bar is a coloured div whose
 * width is the percentage of the quota, capped at 100 %). Pure, like the rest of the rendering.
 */

export interface HistoryPoint {
  /** The scan's reference time. */
  scannedAt: Date;
  status: 'complete' | 'partial';
  bytes: bigint;
  temporalByteDays: bigint;
}

/** How many scans an email shows. */
export const historyLimit = 6;

export interface HistoryBlock {
  type: 'history';
  points: HistoryPoint[];
  quotas: { hardBytes: bigint; temporalByteDays: bigint };
}

export function historyBlock(points: HistoryPoint[], quotas: HistoryBlock['quotas']): HistoryBlock | null {
  const shown = [...points].sort((a, b) => a.scannedAt.getTime() - b.scannedAt.getTime()).slice(-historyLimit);
  return shown.length >= 2 ? { type: 'history', points: shown, quotas } : null;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function rows(block: HistoryBlock): string[][] {
  return block.points.map((point) => [
    `${day(point.scannedAt)}${point.status === 'partial' ? ' (partial)' : ''}`,
    formatBytes(point.bytes),
    formatPercent(percentOf(point.bytes, block.quotas.hardBytes)),
    formatByteDays(point.temporalByteDays),
    formatPercent(percentOf(point.temporalByteDays, block.quotas.temporalByteDays)),
  ]);
}

export const historyHeaders = ['Scan', 'Size', 'of hard quota', 'Temporal', 'of temporal quota'];

/** The text part: a plain table (the caller's table formatter), right-aligned figures. */
export function historyTable(block: HistoryBlock): { headers: string[]; rows: string[][]; right: number[] } {
  return { headers: historyHeaders, rows: rows(block), right: [1, 2, 3, 4] };
}

function bar(percent: number): string {
  const width = Number.isFinite(percent) ? Math.max(0, Math.min(100, percent)) : 100;
  const colour = percent >= 100 ? '#c62828' : percent >= 90 ? '#e69f00' : '#4a7ab5';
  return (
    `<div style="width:120px;height:8px;background:#e4e7eb;border-radius:2px;">` +
    `<div style="width:${width.toFixed(0)}%;height:8px;background:${colour};border-radius:2px;"></div></div>`
  );
}

/** The HTML part: the same rows, each percentage with a bar. `escape` is the email's HTML escaper. */
export function historyHtml(block: HistoryBlock, escape: (value: string) => string): string {
  const cell = 'padding:4px 10px 4px 0;border-bottom:1px solid #e4e7eb;font-size:13px;';
  const head = historyHeaders
    .map((header, column) => `<th style="${cell}text-align:${column === 0 ? 'left' : 'right'};">${escape(header)}</th>`)
    .join('');
  const body = block.points
    .map((point, index) => {
      const [when = '', size = '', hardPercent = '', temporal = '', temporalPercent = ''] = rows(block)[index] ?? [];
      const hard = percentOf(point.bytes, block.quotas.hardBytes);
      const time = percentOf(point.temporalByteDays, block.quotas.temporalByteDays);
      return (
        `<tr><td style="${cell}white-space:nowrap;">${escape(when)}</td>` +
        `<td style="${cell}text-align:right;white-space:nowrap;">${escape(size)}</td>` +
        `<td style="${cell}text-align:right;white-space:nowrap;">${escape(hardPercent)}${bar(hard)}</td>` +
        `<td style="${cell}text-align:right;white-space:nowrap;">${escape(temporal)}</td>` +
        `<td style="${cell}text-align:right;white-space:nowrap;">${escape(temporalPercent)}${bar(time)}</td></tr>`
      );
    })
    .join('\n');
  return `<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:collapse;margin:0 0 14px 0;">\n<tr>${head}</tr>\n${body}\n</table>`;
}
