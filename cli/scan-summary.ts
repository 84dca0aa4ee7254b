import { formatByteDays, formatBytes, formatExact } from '../lib/common/units.js';
import type { ScanProgress } from '../activities/scan.js';
import type { ScanUserResult } from '../lib/temporal/contracts.js';

/** A few lines on how a scan ended, for `xfc workflow start scan --wait` and `xfc workflow status scan`. */
export function describeScanResult(result: ScanUserResult): string {
  if (result.type === 'duplicate') {
    return `Request ${result.requestId} had already been served by scan ${result.servedBy}; no new scan was made.`;
  }
  if (result.type === 'scan.failed') {
    const { message } = result;
    return `Scan ${message.scanId} of ${message.username} failed (${message.reason}): ${message.message}`;
  }
  const { message } = result;
  const { totals, errors } = message;
  const otherMount = errors.otherMount ?? 0;
  const errorCount = errors.unreadable + errors.vanished + errors.otherDevice + otherMount + errors.otherErrors;
  return [
    `Scan ${message.scanId} of ${message.username}: ${message.status}`,
    `  work directory   ${message.workDir}`,
    `  files            ${formatExact(BigInt(totals.files))} in ${formatExact(BigInt(totals.directories))} directories`,
    `  hard usage       ${formatBytes(BigInt(totals.bytes))} (${formatExact(BigInt(totals.bytes))} bytes)`,
    `  temporal usage   ${formatByteDays(BigInt(totals.temporalByteDays))} (age basis ${message.ageBasis}, as of ${message.now})`,
    `  errors           ${errorCount === 0 ? 'none' : `${errors.unreadable} unreadable, ${errors.vanished} vanished, ${errors.otherDevice} on other devices, ${otherMount > 0 ? `${otherMount} other mounts, ` : ''}${errors.otherErrors} other`}`,
    `  took             ${Math.round((Date.parse(message.finishedAt) - Date.parse(message.startedAt)) / 1000)} s`,
  ].join('\n');
}

/** One line of progress of a running scan. */
export function describeScanProgress(progress: ScanProgress): string {
  const seconds = Math.max(progress.elapsedMs / 1000, 0.001);
  return [
    `${formatExact(BigInt(progress.files))} files`,
    `${formatBytes(BigInt(progress.bytes))}`,
    `${Math.round(progress.files / seconds)} files/s`,
    `${progress.errors} errors`,
    `in ${progress.currentDirectory || '.'}`,
  ].join(', ');
}
