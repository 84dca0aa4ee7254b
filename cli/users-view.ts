import { printable } from '../lib/common/printable.js';
import { describeForecast, forecastOf } from '../lib/common/forecast.js';
import { formatTime } from '../lib/common/time.js';
import { formatByteDays, formatBytes, formatExact, formatPercent } from '../lib/common/units.js';
import type { ScanRecord } from '../db/scans.js';
import type { UserUsage } from '../db/users.js';
import { formatTable } from '../lib/common/table.js';

/** How `xfc users list` and `xfc users show` print users: human units with %, and JSON for scripts. */

export const unitsNote =
  'Sizes in IEC units (1 TiB = 2^40 bytes); temporal usage in byte·days (TiB·day = 1 TiB held for a day).';

function forecastText(user: UserUsage): string {
  const forecast = forecastOf(user);
  return forecast ? describeForecast(forecast) : 'not scanned yet';
}

function forecastSentence(user: UserUsage): string {
  const forecast = forecastOf(user);
  if (!forecast) return 'not scanned yet';
  switch (forecast.kind) {
    case 'reached':
      return 'temporal quota already reached';
    case 'never':
      return 'temporal quota not reached at the current size';
    case 'on':
      return `temporal quota reached on ${describeForecast(forecast)} at the current size`;
  }
}

/** "2026-11-01 10:00 UTC complete", "never", or the failure when it is the latest news. */
export function lastScanText(user: UserUsage): string {
  const scanned = user.lastScanned ? `${formatTime(user.lastScanned)} ${user.lastScanStatus ?? ''}`.trim() : 'never';
  if (user.lastFailedAt && (!user.lastScanned || user.lastFailedAt > user.lastScanned)) {
    const measured = user.lastScanned ? `; measured ${formatTime(user.lastScanned)}` : '';
    return `failed ${formatTime(user.lastFailedAt)} (${printable(user.lastFailureReason ?? 'unknown')})${measured}`;
  }
  return scanned;
}

export function formatUserList(users: UserUsage[]): string {
  if (users.length === 0) return 'No users match.';
  const rows = users.map((user) => [
    user.username,
    user.volume,
    `${formatBytes(user.hardUsed)} / ${formatBytes(user.hardQuota)}`,
    formatPercent(user.hardPercent),
    `${formatByteDays(user.temporalUsed)} / ${formatByteDays(user.temporalQuota)}`,
    formatPercent(user.temporalPercent),
    lastScanText(user),
    forecastText(user),
  ]);
  const table = formatTable(
    [
      'USER',
      'VOLUME',
      'HARD USED / QUOTA',
      'HARD',
      'TEMPORAL USED / QUOTA',
      'TEMPORAL',
      'LAST SCAN',
      'TEMPORAL QUOTA REACHED',
    ],
    rows,
    [2, 3, 4, 5],
  );
  return `${table}\n\n${users.length} user${users.length === 1 ? '' : 's'}. ${unitsNote}`;
}

export function formatUserDetails(user: UserUsage, scans: ScanRecord[]): string {
  const line = (label: string, value: string): string => `  ${label.padEnd(16)} ${value}`;
  const lines = [
    `${user.username} — ${printable(user.workDir)}`,
    line('volume', `${printable(user.volume)} (${printable(user.mountpoint)})`),
    line('email', `${printable(user.email) || '(none)'}; notifications ${user.notify ? 'on' : 'off'}`),
    line(
      'hard usage',
      `${formatBytes(user.hardUsed)} of ${formatBytes(user.hardQuota)} (${formatPercent(user.hardPercent)}); ` +
        `exactly ${formatExact(user.hardUsed)} of ${formatExact(user.hardQuota)} bytes`,
    ),
    line(
      'temporal usage',
      `${formatByteDays(user.temporalUsed)} of ${formatByteDays(user.temporalQuota)} ` +
        `(${formatPercent(user.temporalPercent)}); exactly ${formatExact(user.temporalUsed)} of ` +
        `${formatExact(user.temporalQuota)} byte·days`,
    ),
    line(
      'last scan',
      user.lastScanned ? `${lastScanText(user)} (${printable(user.lastScanId ?? 'scan id unknown')})` : 'never',
    ),
    line(
      'last failure',
      user.lastFailedAt ? `${formatTime(user.lastFailedAt)} (${printable(user.lastFailureReason ?? 'unknown')})` : '—',
    ),
    line('forecast', forecastSentence(user)),
    line(
      'scan request',
      user.outstandingRequestId
        ? `${printable(user.outstandingRequestId)}, requested ${formatTime(user.requestedAt)}`
        : 'none outstanding',
    ),
    line(
      'notification',
      `level ${user.notifyLevel}${user.levelSince ? ` since ${formatTime(user.levelSince)}` : ''}; last sent ` +
        (user.lastNotifiedAt ? `${formatTime(user.lastNotifiedAt)} (${user.lastNotifiedKind ?? '?'})` : 'never') +
        (user.lastNotifySkippedReason ? `; last skipped: ${printable(user.lastNotifySkippedReason)}` : ''),
    ),
    '',
  ];
  if (scans.length === 0) {
    lines.push('No scans recorded yet.');
  } else {
    lines.push('Recent scans (newest first):');
    lines.push(
      formatTable(
        ['APPLIED', 'MEASURED AT', 'STATUS', 'HARD', 'ALLOCATED', 'TEMPORAL', 'FILES', 'SCAN ID', 'NOTE'],
        scans.map((scan) => [
          formatTime(scan.appliedAt),
          formatTime(scan.scanNow),
          scan.status,
          scan.bytes === null ? '—' : formatBytes(scan.bytes),
          // st_blocks × 512: far below HARD for sparse files, which are counted at their apparent size.
          scan.allocatedBytes === null ? '—' : formatBytes(scan.allocatedBytes),
          scan.temporalByteDays === null ? '—' : formatByteDays(scan.temporalByteDays),
          scan.files === null ? '—' : formatExact(scan.files),
          printable(scan.scanId),
          scanNote(scan),
        ]),
        [3, 4, 5, 6],
      ),
    );
  }
  lines.push('', unitsNote);
  return lines.join('\n');
}

function scanNote(scan: ScanRecord): string {
  if (scan.status === 'failed') {
    // Stored failure text can come from a message: escaped, so it cannot drive the terminal.
    return printable(`${scan.failureReason ?? ''}: ${scan.failureMessage ?? ''}`).slice(0, 100);
  }
  const notes: string[] = [];
  if (!scan.usageApplied) notes.push('older than the usage shown: history only');
  const errors = scan.errors;
  if (errors) {
    const counts = Object.entries({
      unreadable: errors.unreadable,
      vanished: errors.vanished,
      'other device': errors.otherDevice,
      // Bind mounts and other mounts inside the tree: counted, not entered (absent from results before v1 had it).
      'other mounts': errors.otherMount ?? 0,
      'other errors': errors.otherErrors,
    }).filter(([, count]) => count > 0);
    if (counts.length > 0) notes.push(counts.map(([kind, count]) => `${count} ${kind}`).join(', '));
  }
  if (scan.ageBasis) notes.push(`age by ${scan.ageBasis}`);
  return notes.join('; ');
}

/** A user as JSON: byte figures as decimal strings, times as ISO-8601. */
export function userJson(user: UserUsage): Record<string, unknown> {
  const forecast = forecastOf(user);
  return {
    ...plain(user),
    forecast: forecast
      ? forecast.kind === 'on'
        ? { kind: 'on', date: forecast.date.toISOString(), days: forecast.days }
        : forecast.kind === 'reached'
          ? { kind: 'reached', since: forecast.since.toISOString() }
          : { kind: 'never' }
      : null,
  };
}

export function scanJson(scan: ScanRecord): Record<string, unknown> {
  return plain(scan);
}

/** bigint → decimal string, Date → ISO string, recursively through arrays and plain objects. */
export function plain(value: unknown): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)),
  ) as Record<string, unknown>;
}
