import { formatTable } from '../common/table.js';
import { describeForecast, forecastTemporalQuota } from '../common/forecast.js';
import { formatByteDays, formatBytes, formatExact, formatPercent, percentOf } from '../common/units.js';
import type { AgeBasis, AgeBucket, TopDirectories, TopDirectory } from '../messages/v1/index.js';
import { quotaLevel, type EmailKind, type NotifyLevel, type PolicyThresholds } from './policy.js';
import { formatTime } from '../common/time.js';
import { historyBlock, historyHtml, historyTable, type HistoryBlock, type HistoryPoint } from './history-block.js';

/**
 * The emails themselves (docs/design.md §7): calm and useful, never a threat. Pure: the same input gives the same bytes,
 * so the rendered examples under docs/emails/ are the snapshots the tests compare against.
 *
 * Both bodies are built from one list of blocks, so the text and HTML parts always say the same thing. Every
 * user-controlled string (username, path, directory names) passes through {@link displayName} (control and bidi
 * characters made visible, length capped) and, in HTML, is escaped; none of it goes into a header.
 */

export interface EmailContent {
  kind: EmailKind;
  username: string;
  /** The user's work directory, e.g. /work/xfc/vol5/user_cache/alice. */
  workDir: string;
  scan: {
    status: 'complete' | 'partial';
    /** The scan's reference time. */
    scannedAt: Date;
    ageBasis: AgeBasis;
    bytes: bigint;
    temporalByteDays: bigint;
    files: number;
    /** Entries the scan could not count (unreadable, vanished, other errors): a partial scan is a lower bound. */
    uncounted: number;
    topDirectories: TopDirectories;
    ageHistogram: AgeBucket[];
  };
  quotas: { hardBytes: bigint; temporalByteDays: bigint };
  thresholds: PolicyThresholds;
  /** Who to ask, e.g. "the JASMIN helpdesk, support@jasmin.ac.uk" (XFC_MAIL_CONTACT). */
  contact: string;
  /** XFC_MAIL_HELP_URL, linked from both parts; XFC_MAIL_POLICY, what happens if usage stays over quota. */
  helpUrl?: string;
  policy?: string;
  /** The user's recent scans, this one included (shown when there are at least two). */
  history?: HistoryPoint[];
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** How many top directories an email lists, and how long a shown name may be. */
export const topDirectoryLimit = 10;
export const nameLimit = 60;

type Block =
  | { type: 'p'; text: string }
  | { type: 'note'; text: string }
  | { type: 'h'; text: string }
  | { type: 'table'; headers: string[]; rows: string[][]; right: number[] }
  | { type: 'commands'; lines: Array<[command: string, comment: string]> }
  | { type: 'small'; text: string }
  | { type: 'link'; text: string; url: string }
  | HistoryBlock;

/** Renders the subject and both bodies. */
export function renderEmail(content: EmailContent): RenderedEmail {
  const subject = renderSubject(content);
  const blocks = buildBlocks(content);
  return { subject, text: toText(blocks), html: toHtml(subject, blocks) };
}

interface QuotaView {
  name: 'temporal' | 'hard';
  used: bigint;
  quota: bigint;
  level: NotifyLevel;
  percent: number;
  format: (value: bigint) => string;
}

function quotaViews(content: EmailContent): [QuotaView, QuotaView] {
  const { scan, quotas, thresholds } = content;
  const view = (name: QuotaView['name'], used: bigint, quota: bigint, format: QuotaView['format']): QuotaView => ({
    name,
    used,
    quota,
    level: quotaLevel(used, quota, thresholds),
    percent: percentOf(used, quota),
    format,
  });
  return [
    view('temporal', scan.temporalByteDays, quotas.temporalByteDays, formatByteDays),
    view('hard', scan.bytes, quotas.hardBytes, formatBytes),
  ];
}

/** "temporal quota", "hard quota", "hard and temporal quotas". */
function quotaPhrase(views: QuotaView[]): string {
  const names = views.map((v) => v.name).sort();
  return names.length === 2 ? `${names.join(' and ')} quotas` : `${names[0] ?? 'temporal'} quota`;
}

/** The quotas an email is about: those at the level it reports (the temporal one when none is, e.g. all-clear). */
function concerned(content: EmailContent): QuotaView[] {
  const views = quotaViews(content);
  const wanted: NotifyLevel = content.kind === 'warning' ? 'warning' : 'over';
  const at = views.filter((v) => (wanted === 'over' ? v.level === 'over' : v.level !== 'ok'));
  return at.length > 0 ? at : views.filter((v) => v.name === 'temporal');
}

export function renderSubject(content: EmailContent): string {
  const phrase = quotaPhrase(concerned(content));
  switch (content.kind) {
    case 'warning':
      return `[XFC] Your transfer cache is nearing its ${phrase}`;
    case 'over':
      return `[XFC] Your transfer cache is over its ${phrase}`;
    case 'reminder':
      return `[XFC] Reminder: your transfer cache is still over its ${phrase}`;
    case 'all-clear':
      return '[XFC] Your transfer cache is back within its quotas';
  }
}

/** "91.4 % of its temporal quota and 90.2 % of its hard quota". */
function percentList(views: QuotaView[]): string {
  return views.map((v) => `${formatPercent(v.percent)} of its ${v.name} quota`).join(' and ');
}

/** After "over its temporal quota": ", at 104.1 %" (the quota is already named) or the full list for two. */
function atPercent(views: QuotaView[]): string {
  const [only] = views;
  return views.length === 1 && only ? `at ${formatPercent(only.percent)}` : `at ${percentList(views)}`;
}

function buildBlocks(content: EmailContent): Block[] {
  const { kind, scan, thresholds } = content;
  const user = displayName(content.username);
  const cache = displayName(content.workDir, 200);
  const views = quotaViews(content);
  const about = concerned(content);
  const blocks: Block[] = [{ type: 'p', text: `Hello ${user},` }];

  switch (kind) {
    case 'warning':
      blocks.push({
        type: 'p',
        text: `Your XFC transfer cache, ${cache}, is at ${percentList(about)}. This is an early notice so you can plan: nothing needs to happen today.`,
      });
      break;
    case 'over':
      blocks.push({
        type: 'p',
        text: `Your XFC transfer cache, ${cache}, is over its ${quotaPhrase(about)}, ${atPercent(about)}. This email is so you know and can plan.`,
      });
      break;
    case 'reminder':
      blocks.push({
        type: 'p',
        text: `A reminder: your XFC transfer cache, ${cache}, is still over its ${quotaPhrase(about)}, ${atPercent(about)}. While it stays over, we write at most once every ${days(thresholds.reminderIntervalMs)}.`,
      });
      break;
    case 'all-clear':
      blocks.push({
        type: 'p',
        text: `Good news: your XFC transfer cache, ${cache}, is back within its quotas, at ${percentList(views)}. Thank you for making room. There is nothing more to do.`,
      });
      break;
  }
  blocks.push({ type: 'note', text: 'No files will be deleted automatically.' });
  if ((kind === 'over' || kind === 'reminder') && content.policy) {
    blocks.push({ type: 'p', text: `If your usage stays over a quota, nothing is deleted: ${content.policy}` });
  }
  if (kind !== 'all-clear') {
    blocks.push({
      type: 'p',
      text: 'XFC is shared scratch space for moving data in and out of JASMIN. When you have a moment, please move the data you want to keep to longer-term storage (a group workspace, for example) and remove what you no longer need.',
    });
  }

  blocks.push({ type: 'h', text: `Your usage, measured on ${formatTime(scan.scannedAt)}` });
  blocks.push({
    type: 'table',
    headers: ['Quota', 'Used', 'Limit', 'Used %'],
    rows: views.map((v) => [
      v.name === 'temporal' ? 'Temporal' : 'Hard',
      v.format(v.used),
      v.quota > 0n ? v.format(v.quota) : 'not set',
      formatPercent(v.percent),
    ]),
    right: [1, 2, 3],
  });
  if (scan.status === 'partial') {
    blocks.push({
      type: 'p',
      text: `This scan could not count ${formatExact(BigInt(scan.uncounted))} ${scan.uncounted === 1 ? 'entry' : 'entries'} (for example a directory the scanner may not read), so these figures are a lower bound: your actual usage may be higher.`,
    });
  }
  blocks.push({
    type: 'p',
    text: 'The temporal quota measures how much you keep and for how long: each file counts its size times its age in days, plus one (a file copied in today counts once).',
  });
  blocks.push({ type: 'p', text: ageBasisSentence(scan.ageBasis) });
  blocks.push({ type: 'p', text: forecastSentence(content) });

  const history = historyBlock(content.history ?? [], content.quotas);
  if (history) {
    blocks.push({ type: 'h', text: 'Your recent scans' });
    blocks.push(history);
  }

  const top = topDirectoryView(content);
  if (top.rows.length > 0) {
    blocks.push({ type: 'h', text: top.title });
    blocks.push({
      type: 'table',
      headers: ['Directory', 'Temporal', 'Size', 'Files'],
      rows: top.rows,
      right: [1, 2, 3],
    });
  }

  blocks.push({ type: 'h', text: `Age of your files (by ${scan.ageBasis})` });
  blocks.push({
    type: 'table',
    headers: ['Age', 'Size', 'Share', 'Files'],
    rows: scan.ageHistogram.map((bucket) => [
      bucket.label,
      formatBytes(BigInt(bucket.bytes)),
      formatPercent(percentOf(BigInt(bucket.bytes), scan.bytes)),
      formatExact(BigInt(bucket.files)),
    ]),
    right: [1, 2, 3],
  });

  const path = shellQuote(content.workDir);
  blocks.push({ type: 'h', text: 'To check for yourself' });
  blocks.push({
    type: 'commands',
    lines: [
      [`pan_du -sa ${path}`, 'size by age, as above'],
      [`du -sh ${path}`, 'total size'],
    ],
  });
  blocks.push({
    type: 'p',
    text: `Questions, or need to keep more for longer? Please contact ${displayName(content.contact, 200)}.`,
  });
  if (content.helpUrl) blocks.push({ type: 'link', text: 'About XFC and its quotas:', url: content.helpUrl });
  blocks.push({
    type: 'small',
    text: `This is an automatic message from XFC, the JASMIN transfer cache, about the scan of ${formatTime(scan.scannedAt)}. XFC writes when your usage reaches ${thresholds.warnPercent} % or ${thresholds.overPercent} % of a quota, every ${days(thresholds.reminderIntervalMs)} while it stays over, and once when it is back under; never more than once a day.`,
  });
  return blocks;
}

function ageBasisSentence(basis: AgeBasis): string {
  if (basis === 'ctime') {
    return "Ages are counted from each file's ctime, the time it last changed on this disk (such as when it was copied here), rather than its mtime, because copying with rsync -a keeps the source's old modification times.";
  }
  return "Ages are counted from each file's modification time (mtime); note that copying with rsync -a keeps the source's old modification times, so freshly copied data can count as old.";
}

function forecastSentence(content: EmailContent): string {
  const { scan, quotas } = content;
  if (quotas.temporalByteDays <= 0n) return 'No temporal quota is set for your cache, so there is no forecast.';
  const forecast = forecastTemporalQuota({
    temporalUsed: scan.temporalByteDays,
    temporalQuota: quotas.temporalByteDays,
    bytes: scan.bytes,
    scannedAt: scan.scannedAt,
  });
  const growth = `${formatByteDays(scan.bytes)} a day (every file gets a day older each day)`;
  switch (forecast.kind) {
    case 'reached':
      return `Forecast: at its current size, temporal usage grows by ${growth}, so your cache stays over its temporal quota until data is moved or removed.`;
    case 'never':
      return 'Forecast: at its current size, your cache will not reach its temporal quota.';
    case 'on':
      return `Forecast: at its current size, your cache reaches its temporal quota on ${describeForecast(forecast)}: temporal usage grows by ${growth}.`;
  }
}

function topDirectoryView(content: EmailContent): { title: string; rows: string[][] } {
  const [temporal, hard] = quotaViews(content);
  // Show the ranking that explains the email: by size when only the hard quota is the concern.
  const bySize = hard.percent > temporal.percent && hard.level !== 'ok' && temporal.level === 'ok';
  const list: TopDirectory[] = (
    bySize ? content.scan.topDirectories.byBytes : content.scan.topDirectories.byTemporal
  ).slice(0, topDirectoryLimit);
  return {
    title: `Your largest directories, by ${bySize ? 'size' : 'temporal usage'}`,
    rows: list.map((dir) => [
      dir.path === '.' ? '(files directly in your cache)' : `${displayName(dir.path)}/`,
      formatByteDays(BigInt(dir.temporalByteDays)),
      formatBytes(BigInt(dir.bytes)),
      formatExact(BigInt(dir.files)),
    ]),
  };
}

/**
 * A user-controlled name made safe to show: control characters, line and paragraph separators and bidi controls
 * become visible escapes (so a name cannot start a new line or reorder the text around it), and anything longer
 * than `max` characters is cut with an ellipsis. HTML escaping happens later, in the HTML writer.
 */
export function displayName(name: string, max = nameLimit): string {
  const visible = Array.from(name, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
    if ((code >= 0x80 && code < 0xa0) || isInvisibleControl(code)) return `\\u{${code.toString(16)}}`;
    return ch;
  });
  return visible.length > max ? `${visible.slice(0, max - 1).join('')}…` : visible.join('');
}

function isInvisibleControl(code: number): boolean {
  return (
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

/** A path as a person can paste it into a shell. */
export function shellQuote(path: string): string {
  const shown = displayName(path, 400);
  return /^[A-Za-z0-9/._+-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

/** "2026-11-01 06:00 UTC": the same for every reader and every test machine (one formatter: lib/common/time.ts). */
export { formatTime };

function days(ms: number): string {
  const count = Math.round(ms / 86_400_000);
  return count === 1 ? 'day' : `${count} days`;
}

// ---- text

const textWidth = 76;

/** A unit stays on the line of its number: "100 %", "12.3 TiB·day", "7 days". */
const unitWord = /^(%|[KMGTPE]?iB(·day)?|B|days?)[,.:;)]?$/;

function wrap(text: string, width = textWidth, indent = ''): string {
  const words: string[] = [];
  for (const word of text.split(' ')) {
    const last = words.length - 1;
    if (last >= 0 && unitWord.test(word) && /\d$/.test(words[last] ?? '')) words[last] = `${words[last]} ${word}`;
    else words.push(word);
  }
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width - indent.length) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

function toText(blocks: Block[]): string {
  const parts = blocks.map((block): string => {
    switch (block.type) {
      case 'p':
      case 'small':
        return wrap(block.text);
      case 'note':
        return wrap(block.text);
      case 'link':
        return `${wrap(block.text)}\n${block.url}`;
      case 'h':
        return `${block.text}\n${'-'.repeat(Math.min(block.text.length, textWidth))}`;
      case 'table':
        return formatTable(block.headers, block.rows, block.right)
          .split('\n')
          .map((line) => `  ${line}`)
          .join('\n');
      case 'commands': {
        const width = Math.max(...block.lines.map(([command]) => command.length));
        return block.lines.map(([command, comment]) => `  ${command.padEnd(width)}   # ${comment}`).join('\n');
      }
      case 'history': {
        const table = historyTable(block);
        return formatTable(table.headers, table.rows, table.right)
          .split('\n')
          .map((line) => `  ${line}`)
          .join('\n');
      }
    }
  });
  return `${parts.join('\n\n')}\n`;
}

// ---- HTML

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const font = 'font-family:Arial,Helvetica,sans-serif;';
const cell = 'padding:4px 12px 4px 0;border-bottom:1px solid #e4e7eb;';

function toHtml(subject: string, blocks: Block[]): string {
  const body = blocks.map((block): string => {
    switch (block.type) {
      case 'p':
        return `<p style="margin:0 0 14px 0;">${escapeHtml(block.text)}</p>`;
      case 'note':
        return `<p style="margin:0 0 14px 0;padding:10px 14px;background:#eef4fb;border-left:4px solid #4a7ab5;"><strong>${escapeHtml(block.text)}</strong></p>`;
      case 'h':
        return `<h2 style="margin:22px 0 8px 0;font-size:16px;color:#1f2933;">${escapeHtml(block.text)}</h2>`;
      case 'small':
        return `<p style="margin:22px 0 0 0;font-size:12px;color:#616e7c;">${escapeHtml(block.text)}</p>`;
      case 'link':
        return `<p style="margin:0 0 14px 0;">${escapeHtml(block.text)} <a href="${escapeHtml(block.url)}">${escapeHtml(block.url)}</a></p>`;
      case 'table': {
        const align = (column: number): string => (block.right.includes(column) ? 'right' : 'left');
        const head = block.headers
          .map((h, c) => `<th style="${cell}text-align:${align(c)};font-weight:bold;">${escapeHtml(h)}</th>`)
          .join('');
        const rows = block.rows
          .map(
            (row) =>
              `<tr>${row.map((value, c) => `<td style="${cell}text-align:${align(c)};${block.right.includes(c) ? 'white-space:nowrap;' : ''}">${escapeHtml(value)}</td>`).join('')}</tr>`,
          )
          .join('\n');
        return `<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:collapse;margin:0 0 14px 0;font-size:14px;">\n<tr>${head}</tr>\n${rows}\n</table>`;
      }
      case 'commands':
        return `<pre style="margin:0 0 14px 0;padding:10px 14px;background:#f5f7fa;font-size:13px;white-space:pre-wrap;">${block.lines
          .map(
            ([command, comment]) =>
              `${escapeHtml(command)}   <span style="color:#616e7c;"># ${escapeHtml(comment)}</span>`,
          )
          .join('\n')}</pre>`;
      case 'history':
        return historyHtml(block, escapeHtml);
    }
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    `<body style="margin:0;padding:0;background:#f5f7fa;">`,
    `<div style="max-width:640px;margin:0 auto;padding:24px;background:#ffffff;${font}font-size:15px;line-height:1.5;color:#1f2933;overflow-wrap:anywhere;">`,
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
