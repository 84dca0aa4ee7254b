/**
 * Decodes the record batches of the native walker (lib/walker/native/account.c, record_serialize): little-endian, one
 * record after another. Names and paths are byte strings (latin1: one char per byte, see protocol.ts).
 */
import type { ErrorKind } from '../messages/v1/scan-report.js';
import type { DirRecord, ErrorSample, LinkedFile, Sum } from './protocol.js';

const kinds: ErrorKind[] = ['unreadable', 'vanished', 'otherDevice', 'otherMount', 'otherErrors'];
const COUNTS = 15;
const SUMS = 8;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class RecordDecoder {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): DirRecord {
    const flags = this.u32();
    const rel = this.bytes(this.u32());
    const units = this.bytes(this.u32());
    const c: number[] = [];
    for (let i = 0; i < COUNTS; i++) c.push(this.u32());
    const s: Sum[] = [];
    for (let i = 0; i < SUMS; i++) s.push(this.sum());
    const samples: ErrorSample[] = [];
    for (let n = this.u32(); n > 0; n--) {
      const kind = kinds[this.u8()] ?? 'otherErrors';
      const code = this.bytes(this.u8());
      samples.push({ kind, code, rel: this.bytes(this.u32()) });
    }
    const links: LinkedFile[] = [];
    for (let n = this.u32(); n > 0; n--) {
      const dev = this.view.getFloat64(this.pos, true);
      this.pos += 8;
      const inoHi = this.u32();
      const inoLo = this.u32();
      const nlink = this.u32();
      const days = this.u32();
      links.push({ dev, inoHi, inoLo, nlink, days, size: this.sum(), allocated: this.sum() });
    }
    return {
      rel,
      after: null,
      units,
      subtreeDone: (flags & 1) === 1,
      entries: c[0] as number,
      files: c[1] as number,
      directories: c[2] as number,
      symlinks: c[3] as number,
      others: c[4] as number,
      histFiles: c.slice(5, 10),
      unreadable: c[10] as number,
      vanished: c[11] as number,
      otherDevice: c[12] as number,
      otherMount: c[13],
      otherErrors: c[14] as number,
      bytes: s[0] as Sum,
      allocated: s[1] as Sum,
      byteDays: s[2] as Sum,
      histBytes: s.slice(3, 8),
      samples,
      links,
    };
  }

  private u8(): number {
    return this.buf[this.pos++] as number;
  }

  private u32(): number {
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  private bytes(length: number): string {
    const text = this.buf.toString('latin1', this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  /** A decimal sum: a number while exact, a bigint beyond 2^53. */
  private sum(): Sum {
    const digits = this.bytes(this.u8());
    if (digits.length < 16) return Number(digits);
    const value = BigInt(digits);
    return value <= MAX_SAFE ? Number(value) : value;
  }
}
