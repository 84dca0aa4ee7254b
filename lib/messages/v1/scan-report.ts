import { z } from 'zod';
import { ageBucketLabels } from './age-buckets.js';

/**
 * What a scan found, as the walker reports it, `xfc scan --json` prints it and `scan.completed` carries it
 * (docs/design.md §5). Byte figures are decimal strings because byte·days overflow 2^53; counts are plain numbers.
 * Paths are relative to the work directory and escaped (see lib/walker/escape.ts): non-UTF-8 bytes and control
 * characters appear as \xNN, so they are safe to print, log and put in JSON.
 */

/** A non-negative integer written in decimal, e.g. "329853488332800". */
export const decimalString = z.string().regex(/^(0|[1-9][0-9]{0,29})$/, 'a non-negative integer as a decimal string');

const count = z.number().int().nonnegative();

export const scanTotals = z.object({
  files: count,
  directories: count,
  symlinks: count,
  /** FIFOs, sockets, devices: counted, never opened. */
  others: count,
  /** Sum of st_size of regular files, each inode once. */
  bytes: decimalString,
  /** Sum of st_blocks × 512 of the same files. */
  allocatedBytes: decimalString,
  /** Sum over regular files of size × (whole days of age + 1). */
  temporalByteDays: decimalString,
});

export const errorKind = z.enum(['unreadable', 'vanished', 'otherDevice', 'otherMount', 'otherErrors']);

export const scanErrors = z.object({
  /** Directories the scanner could not list or enter (EACCES, EPERM). */
  unreadable: count,
  /** Entries that disappeared or changed type while the scan ran (ENOENT, ENOTDIR, ELOOP on a swapped directory). */
  vanished: count,
  /** Directories on another filesystem: counted, not entered. */
  otherDevice: count,
  /**
   * Directories that are another mount of the same filesystem (a bind mount): counted, not entered. Added after
   * v1's first release: optional, a message without it means 0.
   */
  otherMount: count.optional(),
  otherErrors: count,
  /** Up to 20 examples. */
  samples: z.array(z.object({ kind: errorKind, path: z.string().max(4200), code: z.string().max(40) })).max(20),
});

export const topDirectory = z.object({
  /** First-level directory name under the work directory, escaped; "." stands for files directly in it. */
  path: z.string().max(1100),
  files: count,
  bytes: decimalString,
  temporalByteDays: decimalString,
});

export const topDirectories = z.object({
  byBytes: z.array(topDirectory).max(20),
  byTemporal: z.array(topDirectory).max(20),
});

export { ageBucketLabels, ageBucketLimits } from './age-buckets.js';

export const ageBucket = z.object({
  label: z.enum(ageBucketLabels),
  /** Upper bound in whole days of age, inclusive; null for the last, open bucket. */
  maxDays: z.number().int().nullable(),
  files: count,
  bytes: decimalString,
});

export const ageHistogram = z.array(ageBucket).length(5);

export const scanStatus = z.enum(['complete', 'partial']);
export const ageBasis = z.enum(['ctime', 'mtime']);

export const scanReport = z.object({
  status: scanStatus,
  totals: scanTotals,
  errors: scanErrors,
  topDirectories,
  ageHistogram,
});

export type ScanTotals = z.infer<typeof scanTotals>;
export type ScanErrors = z.infer<typeof scanErrors>;
export type ErrorKind = z.infer<typeof errorKind>;
export type TopDirectory = z.infer<typeof topDirectory>;
export type TopDirectories = z.infer<typeof topDirectories>;
export type AgeBucket = z.infer<typeof ageBucket>;
export type ScanStatus = z.infer<typeof scanStatus>;
export type AgeBasis = z.infer<typeof ageBasis>;
export type ScanReport = z.infer<typeof scanReport>;
