import { formatDuration } from '../lib/common/duration.js';
import { formatByteDays, formatBytes, formatExact } from '../lib/common/units.js';
import type { ScanReport, TopDirectory } from '../lib/messages/v1/scan-report.js';
import type { WalkProgress } from '../lib/walker/index.js';
import { formatTable } from '../lib/common/table.js';

export interface ScanHeader {
  root: string;
  username?: string;
  now: Date;
  ageBasis: 'ctime' | 'mtime';
}

const basisWords = {
  ctime: 'ctime (when each file was last written or copied here; rsync -a and cp -p keep mtime, not ctime)',
  mtime: 'mtime (the modification time, which rsync -a and cp -p copy from the source)',
};

/** `xfc scan --json`: the ScanReport (the shape scan.completed carries) with what was scanned, as of when. */
export function scanJson(report: ScanReport, header: ScanHeader): string {
  return JSON.stringify(
    {
      root: header.root,
      ...(header.username !== undefined ? { username: header.username } : {}),
      now: header.now.toISOString(),
      ageBasis: header.ageBasis,
      ...report,
    },
    null,
    2,
  );
}

/** The human report: totals in human units and exact, top directories, ages, errors. */
export function formatScanReport(report: ScanReport, header: ScanHeader, progress: WalkProgress): string {
  const { totals, errors } = report;
  const bytes = BigInt(totals.bytes);
  const allocated = BigInt(totals.allocatedBytes);
  const byteDays = BigInt(totals.temporalByteDays);
  const lines: string[] = [];
  lines.push(`Scan of ${header.root}${header.username !== undefined ? ` (user ${header.username})` : ''}`);
  lines.push(`  ages as of ${header.now.toISOString()}, from ${basisWords[header.ageBasis]}`);
  lines.push(
    report.status === 'complete'
      ? '  status: complete'
      : '  status: partial: some entries could not be counted (see errors), so the totals are a lower bound',
  );
  lines.push('');
  lines.push(
    formatTable(
      ['Totals', '', 'exact'],
      [
        ['hard usage', formatBytes(bytes), `${formatExact(bytes)} bytes (sum of file sizes)`],
        ['allocated', formatBytes(allocated), `${formatExact(allocated)} bytes (blocks on disk)`],
        ['temporal usage', formatByteDays(byteDays), `${formatExact(byteDays)} byte·days (size × days held)`],
        ['files', formatExact(BigInt(totals.files)), ''],
        ['directories', formatExact(BigInt(totals.directories)), ''],
        ['symlinks', formatExact(BigInt(totals.symlinks)), 'not followed'],
        ['other entries', formatExact(BigInt(totals.others)), 'FIFOs, sockets, devices'],
      ],
      [1],
    ),
  );
  for (const [title, list] of [
    ['Top directories by size', report.topDirectories.byBytes],
    ['Top directories by temporal usage', report.topDirectories.byTemporal],
  ] as const) {
    lines.push('');
    if (list.length === 0) {
      lines.push(`${title}: none (no files)`);
    } else {
      lines.push(`${title} ('.' = files directly in ${header.root})`);
      lines.push(topTable(list, bytes));
    }
  }
  lines.push('');
  lines.push(
    formatTable(
      [`Age (${header.ageBasis})`, 'files', 'size', 'share'],
      report.ageHistogram.map((bucket) => [
        bucket.label,
        formatExact(BigInt(bucket.files)),
        formatBytes(BigInt(bucket.bytes)),
        share(BigInt(bucket.bytes), bytes),
      ]),
      [1, 2, 3],
    ),
  );
  lines.push('');
  const otherMount = errors.otherMount ?? 0;
  const errorCount = errors.unreadable + errors.vanished + errors.otherDevice + otherMount + errors.otherErrors;
  if (errorCount === 0) {
    lines.push('Errors: none');
  } else {
    lines.push(
      `Errors: ${errors.unreadable} unreadable, ${errors.vanished} vanished during the scan, ` +
        `${errors.otherDevice} on other filesystems (not entered), ` +
        (otherMount > 0 ? `${otherMount} other mounts of this filesystem (not entered), ` : '') +
        `${errors.otherErrors} other`,
    );
    lines.push(
      formatTable(
        ['kind', 'path', 'cause'],
        errors.samples.map((sample) => [sample.kind, sample.path, sample.code]),
      )
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    );
    if (errors.samples.length < errorCount) lines.push(`  (first ${errors.samples.length} of ${errorCount} shown)`);
  }
  const seconds = progress.elapsedMs / 1000;
  lines.push('');
  lines.push(
    `Took ${formatDuration(progress.elapsedMs)} for ${formatExact(BigInt(progress.entries))} entries` +
      (seconds > 0 ? ` (${formatExact(BigInt(Math.round(progress.entries / seconds)))} entries/s)` : ''),
  );
  return lines.join('\n');
}

function topTable(list: TopDirectory[], total: bigint): string {
  return formatTable(
    ['directory', 'files', 'size', 'share', 'temporal usage'],
    list.map((dir) => [
      dir.path,
      formatExact(BigInt(dir.files)),
      formatBytes(BigInt(dir.bytes)),
      share(BigInt(dir.bytes), total),
      formatByteDays(BigInt(dir.temporalByteDays)),
    ]),
    [1, 2, 3, 4],
  );
}

function share(part: bigint, total: bigint): string {
  if (total === 0n) return '—';
  return `${(Number((part * 1000n) / total) / 10).toFixed(1)} %`;
}

/** One line of live progress for a terminal, at most `columns` wide. */
export function formatProgressLine(progress: WalkProgress, columns: number): string {
  const seconds = Math.max(progress.elapsedMs / 1000, 0.001);
  const head =
    `${formatExact(BigInt(progress.entries))} entries, ` +
    `${formatExact(BigInt(Math.round(progress.files / seconds)))} files/s, ` +
    `${formatBytes(progress.bytes)}` +
    (progress.errors > 0 ? `, ${progress.errors} errors` : '') +
    ' · ';
  const room = Math.max(columns - 1 - head.length, 10);
  const dir = progress.currentDirectory;
  return head + (dir.length <= room ? dir : `…${dir.slice(dir.length - room + 1)}`);
}
