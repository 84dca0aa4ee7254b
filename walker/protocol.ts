/**
 * Messages between the walk's main thread (walker/walk.ts) and its worker threads (walker/dir-worker.ts).
 *
 * Paths and names are "byte strings": file names read with the 'latin1' encoding, one char per byte, so any byte
 * sequence survives (non-UTF-8 names included), `.length` is the length in bytes, and `<` on two byte strings is
 * the bytewise order (strcmp, Buffer.compare). A relative path joins its components with '/'; '' is the root.
 */
import type { ErrorKind } from '../messages/v1/scan-report.js';

/** A directory to visit, with the identity its parent's lstat saw (the opened directory must match it). */
export interface DirRef {
  rel: string;
  dev: number;
  ino: number;
}

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
 * What one visit of a directory's own entries (all of them, or one chunk of a large directory) found: the unit
 * of accounting and of checkpoints. Counts exclude multiply-linked files, which travel in `links`.
 */
export interface DirRecord {
  rel: string;
  /** Last name accounted when the record ends inside its directory; null when the directory's entries are done. */
  after: string | null;
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
  otherErrors: number;
  samples: ErrorSample[];
  links: LinkedFile[];
}

/** Where each number of a record sits in RecordBatch.numbers. */
export const Field = {
  entries: 0,
  files: 1,
  directories: 2,
  symlinks: 3,
  others: 4,
  bytes: 5,
  allocated: 6,
  byteDays: 7,
  histFiles: 8, // 5 buckets
  histBytes: 13, // 5 buckets
  unreadable: 18,
  vanished: 19,
  otherDevice: 20,
  otherErrors: 21,
} as const;
export const RECORD_FIELDS = 22;

/**
 * Records as they travel from a worker: numbers packed in one transferable array (measured: cloning record
 * objects cost workers 5–7 % of a walk), the rest in a few strings and sparse lists.
 */
export interface RecordBatch {
  count: number;
  /** count × RECORD_FIELDS numbers; a sum beyond 2^53 is NaN here and exact in its extra. */
  numbers: Float64Array;
  /** The records' directory paths joined by NUL (which no name contains). */
  rels: string;
  /** Records that end inside their directory: [index, last name accounted]. */
  afters: Array<[number, string]>;
  /** Records with error samples, multiply-linked files or sums beyond 2^53, by increasing index. */
  extras: RecordExtra[];
}

export interface RecordExtra {
  index: number;
  samples: ErrorSample[];
  links: LinkedFile[];
  /** [field, exact value] for sums beyond 2^53. */
  big: Array<[number, bigint]>;
}

/** Reads a batch's records in order, as objects. */
export class BatchReader {
  private next = 0;
  private relPos = 0;
  private afterPos = 0;
  private extraPos = 0;

  constructor(readonly batch: RecordBatch) {}

  get remaining(): number {
    return this.batch.count - this.next;
  }

  read(): DirRecord | null {
    const { batch } = this;
    const i = this.next;
    if (i >= batch.count) return null;
    this.next++;
    const end = batch.rels.indexOf('\0', this.relPos);
    const rel = batch.rels.slice(this.relPos, end < 0 ? undefined : end);
    this.relPos = end < 0 ? batch.rels.length : end + 1;
    let after: string | null = null;
    const pendingAfter = batch.afters[this.afterPos];
    if (pendingAfter && pendingAfter[0] === i) {
      after = pendingAfter[1];
      this.afterPos++;
    }
    let extra: RecordExtra | undefined;
    if (batch.extras[this.extraPos]?.index === i) extra = batch.extras[this.extraPos++];
    const n = batch.numbers;
    const base = i * RECORD_FIELDS;
    const sum = (field: number): Sum => {
      const value = n[base + field] as number;
      if (!Number.isNaN(value)) return value;
      const exact = extra?.big.find(([f]) => f === field);
      if (!exact) throw new Error(`record ${i}: sum ${field} is missing`);
      return exact[1];
    };
    return {
      rel,
      after,
      entries: n[base + Field.entries] as number,
      files: n[base + Field.files] as number,
      directories: n[base + Field.directories] as number,
      symlinks: n[base + Field.symlinks] as number,
      others: n[base + Field.others] as number,
      bytes: sum(Field.bytes),
      allocated: sum(Field.allocated),
      byteDays: sum(Field.byteDays),
      histFiles: [0, 1, 2, 3, 4].map((k) => n[base + Field.histFiles + k] as number),
      histBytes: [0, 1, 2, 3, 4].map((k) => sum(Field.histBytes + k)),
      unreadable: n[base + Field.unreadable] as number,
      vanished: n[base + Field.vanished] as number,
      otherDevice: n[base + Field.otherDevice] as number,
      otherErrors: n[base + Field.otherErrors] as number,
      samples: extra?.samples ?? [],
      links: extra?.links ?? [],
    };
  }
}

export interface WorkerConfig {
  /** Absolute path of the root, as a byte string. */
  root: string;
  rootDev: number;
  rootIno: number;
  nowMs: number;
  ageBasis: 'ctime' | 'mtime';
  /** Names never descended, as byte strings. */
  exclude: string[];
  /** Metadata requests this worker keeps in flight when the filesystem is slow (latency-bound). */
  maxInFlight: number;
  /** Directories with more entries than this are handed back to be split into chunks. */
  bigDirectory: number;
  /** Names per chunk of a large directory. */
  chunkSize: number;
  /** Above this mean lstat time (µs) the worker switches to asynchronous calls with many in flight. */
  slowOpUs: number;
  /** Force one mode (tests and measurements); undefined = adapt. */
  mode?: 'sync' | 'async';
}

export type Task =
  | {
      kind: 'walk';
      id: number;
      /** Sibling directories, in order: each is visited with its whole subtree, within the budget. */
      dirs: DirRef[];
      budgetEntries: number;
      budgetMs: number;
    }
  | {
      kind: 'chunk';
      id: number;
      dir: DirRef;
      /** Sorted names joined by '/' (a name never contains '/'). */
      names: string;
      /** This chunk starts the directory: directory-level errors (and the root itself) are counted here. */
      first: boolean;
      last: boolean;
    }
  | {
      kind: 'frontier';
      id: number;
      /** The checkpoint cursor: directory, and last name accounted in it (null = its entries are done). */
      rel: string;
      after: string | null;
    };

export interface BigDirectory {
  dir: DirRef;
  /** Sorted names in chunks, each joined by '/'. */
  chunks: string[];
}

export type TaskResult =
  | {
      kind: 'walk';
      id: number;
      records: RecordBatch;
      /** A directory too large to visit in one piece, met after `records`; its chunks come next in order. */
      big: BigDirectory | null;
      /** What the task did not reach, in walk order: the deepest pending siblings first. */
      rest: DirRef[][];
    }
  | { kind: 'chunk'; id: number; records: RecordBatch; subdirs: DirRef[] }
  | {
      kind: 'frontier';
      id: number;
      /** Errors met while re-listing (the tree changed since the checkpoint). */
      records: RecordBatch;
      /** Entries of the cursor's directory after the cursor, in chunks; their subdirectories come from the chunks. */
      remainder: BigDirectory | null;
      /** Subdirectories of the cursor's directory up to the cursor (all of them when its entries are done). */
      subdirs: DirRef[];
      /** Subdirectories after the path's component at each ancestor, deepest ancestor first. */
      ancestors: DirRef[][];
    }
  | { kind: 'error'; id: number; message: string }
  /** Sent on its own when a worker finds the filesystem slow (or fast again): how many tasks it should get. */
  | { kind: 'mode'; mode: 'sync' | 'async' };

export const ageBucketCount = 5;

/** Index of the age bucket of a file `days` whole days old (≤30, ≤60, ≤90, ≤120, >120). */
export function ageBucketIndex(days: number): number {
  return days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : days <= 120 ? 3 : 4;
}
