import { ageBucketLabels, ageBucketLimits } from '../messages/v1/age-buckets.js';
import type { ErrorKind, ScanReport, ScanTotals, TopDirectory } from '../messages/v1/scan-report.js';
import { decodeHardLinks } from './checkpoint-checks.js';
import type { WalkCheckpoint } from './checkpoint.js';
import { escapeByteString } from './escape.js';
import { HardLinkSet } from './hardlinks.js';
import { ageBucketIndex, type DirRecord, type Sum } from './protocol.js';

const MAX_SAMPLES = 20;
const TOP = 20;
/** Longest sample path the report schema accepts. */
const MAX_SAMPLE_PATH = 4200;
/** Hard-link inodes kept in a checkpoint, in bytes of varints (base64 adds a third). */
const HARD_LINK_BYTES = 75_000;

/** The last unit accounted (see WalkCheckpoint's cursor); rel and after are byte strings. */
export interface Cursor {
  rel: string;
  after: string | null;
  units?: string;
  subtreeDone?: boolean;
}

interface TopEntry {
  /** First-level name as a byte string; '' = files directly in the root. */
  key: string;
  files: number;
  bytes: bigint;
  byteDays: bigint;
}

/**
 * The running sums of a walk, fed with directory records strictly in walk order. Holds only bounded state
 * (plus the hard-link set), so it fits in a checkpoint and a resumed walk continues exactly where it stopped.
 */
export class Tally {
  entries = 0;
  files = 0;
  directories = 0;
  symlinks = 0;
  others = 0;
  bytes = 0n;
  allocated = 0n;
  byteDays = 0n;
  readonly histFiles = [0, 0, 0, 0, 0];
  readonly histBytes = [0n, 0n, 0n, 0n, 0n];
  readonly errors = { unreadable: 0, vanished: 0, otherDevice: 0, otherMount: 0, otherErrors: 0 };
  readonly samples: Array<{ kind: ErrorKind; path: string; code: string }> = [];
  links = new HardLinkSet();
  /** Hard-link inodes a checkpoint this walk resumed from had to leave out. */
  linksDropped = 0;
  /** Last unit accounted (see WalkCheckpoint); null before the first. */
  cursor: Cursor | null = null;
  private current: TopEntry | null = null;
  private byBytes: TopEntry[] = [];
  private byTemporal: TopEntry[] = [];

  /** Adds one record; records must come in walk order. */
  add(record: DirRecord): void {
    const slash = record.rel.indexOf('/');
    const key = slash < 0 ? record.rel : record.rel.slice(0, slash);
    if (this.current === null || this.current.key !== key) {
      this.closeTop();
      this.current = { key, files: 0, bytes: 0n, byteDays: 0n };
    }
    const top = this.current;
    this.entries += record.entries;
    this.files += record.files;
    this.directories += record.directories;
    this.symlinks += record.symlinks;
    this.others += record.others;
    const bytes = big(record.bytes);
    const byteDays = big(record.byteDays);
    this.bytes += bytes;
    this.allocated += big(record.allocated);
    this.byteDays += byteDays;
    top.files += record.files;
    top.bytes += bytes;
    top.byteDays += byteDays;
    for (let i = 0; i < 5; i++) {
      this.histFiles[i]! += record.histFiles[i] ?? 0;
      const b = record.histBytes[i] ?? 0;
      if (b !== 0) this.histBytes[i]! += big(b);
    }
    for (const link of record.links) {
      if (this.links.seen(link.dev, link.inoHi, link.inoLo, link.nlink)) continue;
      const size = big(link.size);
      const linkByteDays = size * BigInt(link.days + 1);
      const bucket = ageBucketIndex(link.days);
      this.files++;
      this.bytes += size;
      this.allocated += big(link.allocated);
      this.byteDays += linkByteDays;
      this.histFiles[bucket]!++;
      this.histBytes[bucket]! += size;
      top.files++;
      top.bytes += size;
      top.byteDays += linkByteDays;
    }
    this.errors.unreadable += record.unreadable;
    this.errors.vanished += record.vanished;
    this.errors.otherDevice += record.otherDevice;
    this.errors.otherMount += record.otherMount ?? 0;
    this.errors.otherErrors += record.otherErrors;
    for (const sample of record.samples) {
      if (this.samples.length >= MAX_SAMPLES) break;
      this.samples.push({ kind: sample.kind, path: displayPath(sample.rel), code: sample.code });
    }
    this.cursor = { rel: record.rel, after: record.after };
    if (record.units) this.cursor.units = record.units;
    if (record.subtreeDone) this.cursor.subtreeDone = true;
  }

  get errorCount(): number {
    const e = this.errors;
    return e.unreadable + e.vanished + e.otherDevice + e.otherMount + e.otherErrors;
  }

  /** The final report; call once, after the last record. */
  report(): ScanReport {
    this.closeTop();
    const errors = { ...this.errors };
    const samples = [...this.samples];
    if (this.linksDropped > 0) {
      // Honest rather than exact: links of inodes the checkpoint could not hold may have been counted twice.
      errors.otherErrors++;
      if (samples.length < MAX_SAMPLES) samples.push({ kind: 'otherErrors', path: '.', code: 'EHARDLINKSFORGOTTEN' });
    }
    const partial =
      errors.unreadable + errors.vanished + errors.otherDevice + errors.otherMount + errors.otherErrors > 0;
    return {
      status: partial ? 'partial' : 'complete',
      totals: this.totals(),
      errors: { ...errors, samples },
      topDirectories: { byBytes: this.byBytes.map(topDirectory), byTemporal: this.byTemporal.map(topDirectory) },
      ageHistogram: ageBucketLabels.map((label, i) => ({
        label,
        maxDays: ageBucketLimits[i] ?? null,
        files: this.histFiles[i] ?? 0,
        bytes: (this.histBytes[i] ?? 0n).toString(),
      })),
    };
  }

  /** The totals so far, as the report and the checkpoint carry them (sums as decimal strings). */
  private totals(): ScanTotals {
    return {
      files: this.files,
      directories: this.directories,
      symlinks: this.symlinks,
      others: this.others,
      bytes: this.bytes.toString(),
      allocatedBytes: this.allocated.toString(),
      temporalByteDays: this.byteDays.toString(),
    };
  }

  /** The state as checkpoint fields (the caller adds root, settings and elapsed time). */
  toCheckpoint(): Omit<WalkCheckpoint, 'version' | 'root' | 'now' | 'ageBasis' | 'exclude' | 'elapsedMs'> {
    const links = this.links.encode(HARD_LINK_BYTES);
    const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
    return {
      cursor: this.cursor && {
        path: b64(this.cursor.rel),
        after: this.cursor.after === null ? null : b64(this.cursor.after),
        ...(this.cursor.units ? { units: this.cursor.units } : {}),
        ...(this.cursor.subtreeDone ? { subtreeDone: true } : {}),
      },
      entries: this.entries,
      ...this.totals(),
      histogram: { files: [...this.histFiles], bytes: this.histBytes.map(String) },
      errors: { ...this.errors, samples: this.samples.map((s) => ({ ...s })) },
      top: {
        current: this.current && toTopEntryJson(this.current),
        byBytes: this.byBytes.map(toTopEntryJson),
        byTemporal: this.byTemporal.map(toTopEntryJson),
      },
      hardLinks: { data: links.data, count: links.stored, dropped: this.linksDropped + links.dropped },
    };
  }

  /** A tally in the state a checkpoint recorded. */
  static fromCheckpoint(checkpoint: WalkCheckpoint): Tally {
    const tally = new Tally();
    const text = (b64: string): string => Buffer.from(b64, 'base64').toString('latin1');
    tally.cursor = checkpoint.cursor && {
      rel: text(checkpoint.cursor.path),
      after: checkpoint.cursor.after === null ? null : text(checkpoint.cursor.after),
    };
    if (tally.cursor && checkpoint.cursor?.units) tally.cursor.units = checkpoint.cursor.units;
    if (tally.cursor && checkpoint.cursor?.subtreeDone) tally.cursor.subtreeDone = true;
    tally.entries = checkpoint.entries;
    tally.files = checkpoint.files;
    tally.directories = checkpoint.directories;
    tally.symlinks = checkpoint.symlinks;
    tally.others = checkpoint.others;
    tally.bytes = BigInt(checkpoint.bytes);
    tally.allocated = BigInt(checkpoint.allocatedBytes);
    tally.byteDays = BigInt(checkpoint.temporalByteDays);
    checkpoint.histogram.files.forEach((n, i) => (tally.histFiles[i] = n));
    checkpoint.histogram.bytes.forEach((n, i) => (tally.histBytes[i] = BigInt(n)));
    const { samples, ...counts } = checkpoint.errors;
    Object.assign(tally.errors, counts);
    tally.samples.push(...samples.map((s) => ({ ...s })));
    tally.current = checkpoint.top.current && fromTopEntryJson(checkpoint.top.current);
    tally.byBytes = checkpoint.top.byBytes.map(fromTopEntryJson);
    tally.byTemporal = checkpoint.top.byTemporal.map(fromTopEntryJson);
    tally.links = decodeHardLinks(checkpoint);
    tally.linksDropped = checkpoint.hardLinks.dropped;
    return tally;
  }

  /** The first-level directory in progress, as the report shows it ('.' = the root's own files). */
  currentDirectory(): string {
    return this.cursor === null ? '.' : displayPath(this.cursor.rel);
  }

  private closeTop(): void {
    const entry = this.current;
    this.current = null;
    if (entry === null || entry.files === 0) return;
    this.byBytes = insertTop(this.byBytes, entry, (e) => e.bytes);
    this.byTemporal = insertTop(this.byTemporal, entry, (e) => e.byteDays);
  }
}

function big(value: Sum): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}

/** A relative byte-string path for people: escaped, '.' for the root, at most the schema's length (tail kept). */
export function displayPath(rel: string): string {
  if (rel === '') return '.';
  const text = escapeByteString(rel);
  return text.length <= MAX_SAMPLE_PATH ? text : `…${text.slice(text.length - (MAX_SAMPLE_PATH - 1))}`;
}

/** Keeps the 20 largest by `metric`, ties broken by name, so the lists are deterministic. */
function insertTop(list: TopEntry[], entry: TopEntry, metric: (e: TopEntry) => bigint): TopEntry[] {
  const next = [...list, entry];
  next.sort((a, b) => {
    const ma = metric(a);
    const mb = metric(b);
    if (ma !== mb) return ma > mb ? -1 : 1;
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
  return next.slice(0, TOP);
}

function topDirectory(entry: TopEntry): TopDirectory {
  return {
    path: entry.key === '' ? '.' : displayPath(entry.key).slice(0, 1100),
    files: entry.files,
    bytes: entry.bytes.toString(),
    temporalByteDays: entry.byteDays.toString(),
  };
}

type TopEntryJson = WalkCheckpoint['top']['byBytes'][number];

function toTopEntryJson(entry: TopEntry): TopEntryJson {
  return {
    key: Buffer.from(entry.key, 'latin1').toString('base64'),
    files: entry.files,
    bytes: entry.bytes.toString(),
    temporalByteDays: entry.byteDays.toString(),
  };
}

function fromTopEntryJson(entry: TopEntryJson): TopEntry {
  return {
    key: Buffer.from(entry.key, 'base64').toString('latin1'),
    files: entry.files,
    bytes: BigInt(entry.bytes),
    byteDays: BigInt(entry.temporalByteDays),
  };
}
