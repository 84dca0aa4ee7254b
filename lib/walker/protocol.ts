/**
 * What the native walker hands to JavaScript, decoded (lib/walker/record-decoder.ts): one record per unit of a
 * directory, in walk order.
 *
 * Paths and names are "byte strings": bytes read with the 'latin1' encoding, one char per byte, so any byte
 * sequence survives (non-UTF-8 names included), `.length` is the length in bytes, and `<` on two byte strings is
 * the bytewise order (strcmp, Buffer.compare). A relative path joins its components with '/'; '' is the root.
 */
import type { ErrorKind } from '../messages/v1/scan-report.js';

/** A sum that stays a number while it is exact (≤ 2^53 - 1) and becomes a bigint beyond. */
export type Sum = number | bigint;

/** A regular file with more than one link: the main thread counts it once, at its first link in walk order. */
export interface LinkedFile {
  dev: number;
  /** The inode number as two 32-bit halves, exact even above 2^53. */
  inoHi: number;
  inoLo: number;
  nlink: number;
  size: Sum;
  allocated: Sum;
  /** Whole days of age (0 for a time in the future). */
  days: number;
}

export interface ErrorSample {
  kind: ErrorKind;
  /** Byte-string path of the entry, relative to the root. */
  rel: string;
  code: string;
}

/**
 * What one unit of a directory (up to 4,096 of its entries, read from one getdents position; all of a small
 * directory) found: the unit of accounting and of checkpoints. Counts exclude multiply-linked files, which
 * travel in `links`.
 */
export interface DirRecord {
  rel: string;
  /** Always null from the native walker (kept for checkpoints of the previous one, which are refused). */
  after: string | null;
  /** Where the record sits in each directory's stream: "level:cookie" for levels not at a unit starting at 0. */
  units?: string;
  /** The record is a directory that could not be entered: the walk goes on after its whole subtree. */
  subtreeDone?: boolean;
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  others: number;
  bytes: Sum;
  allocated: Sum;
  byteDays: Sum;
  /** Per age bucket (≤30, ≤60, ≤90, ≤120, >120 days). */
  histFiles: number[];
  histBytes: Sum[];
  unreadable: number;
  vanished: number;
  otherDevice: number;
  /** Directories that are mount points on the same device (bind mounts): counted, not entered. */
  otherMount?: number;
  otherErrors: number;
  samples: ErrorSample[];
  links: LinkedFile[];
}

export const ageBucketCount = 5;

/** Index of the age bucket of a file `days` whole days old (≤30, ≤60, ≤90, ≤120, >120). */
export function ageBucketIndex(days: number): number {
  return days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : days <= 120 ? 3 : 4;
}
