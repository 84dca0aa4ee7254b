/**
 * The inodes of multiply-linked regular files met so far, so each is counted once (as du does), at its first
 * link in walk order. An inode is forgotten once all of its links have been seen, so the set holds only inodes
 * with links still to come — including, for ever, files also linked from outside the tree.
 *
 * Memory: an open-addressing table of typed arrays, about 40 bytes per remembered inode. It is the one structure
 * of a walk that grows with the tree (with the number of multiply-linked inodes, never with plain files).
 */
export class HardLinkSet {
  private capacity = 0;
  private mask = 0;
  private count = 0;
  private dev = new Float64Array(0);
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  /** Links not yet seen; 0 marks an empty slot. */
  private remaining = new Uint32Array(0);

  constructor() {
    this.allocate(1024);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records one link of an inode with `nlink` links. Returns true when the inode was already counted (this link
   * must not be counted again), false when this is its first link.
   */
  seen(dev: number, inoHi: number, inoLo: number, nlink: number): boolean {
    let i = this.home(dev, inoHi, inoLo);
    while (this.remaining[i] !== 0) {
      if (this.lo[i] === inoLo && this.hi[i] === inoHi && this.dev[i] === dev) {
        const left = (this.remaining[i] as number) - 1;
        if (left === 0) this.remove(i);
        else this.remaining[i] = left;
        return true;
      }
      i = (i + 1) & this.mask;
    }
    if (nlink > 1) this.insertAt(i, dev, inoHi, inoLo, Math.min(nlink - 1, 0xffffffff));
    return false;
  }

  /** Every remembered inode: [dev, inoHi, inoLo, remaining links]. */
  *entries(): Generator<[number, number, number, number]> {
    for (let i = 0; i < this.capacity; i++) {
      const left = this.remaining[i] as number;
      if (left !== 0) yield [this.dev[i] as number, this.hi[i] as number, this.lo[i] as number, left];
    }
  }

  /**
   * A compact text form for checkpoints: entries sorted by (dev, inode), each as varints of the inode delta
   * (absolute after a dev change) shifted left by one with the low bit saying "dev changes", then the dev delta
   * if it does, then the remaining links; in base64. About 2 bytes per inode in a dense inode range. At most
   * `maxBytes` of varints are written; entries that do not fit are dropped and counted.
   */
  encode(maxBytes: number): { data: string; stored: number; dropped: number } {
    // Each entry takes at least 2 bytes, so no more than maxBytes / 2 can fit: sorting only those keeps a
    // checkpoint of a huge set quick (the event loop must stay free). Which ones are left out is arbitrary.
    const candidates: Array<[number, number, number, number]> = [];
    const limit = Math.floor(maxBytes / 2);
    for (const entry of this.entries()) {
      if (candidates.length >= limit) break;
      candidates.push(entry);
    }
    candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || 0);
    const bytes: number[] = [];
    let stored = 0;
    let prevDev = 0;
    let prevIno = 0n;
    for (const [dev, hi, lo, left] of candidates) {
      const ino = (BigInt(hi) << 32n) | BigInt(lo);
      const mark = bytes.length;
      const devChanged = stored === 0 || dev !== prevDev;
      writeVarint(bytes, ((devChanged ? ino : ino - prevIno) << 1n) | (devChanged ? 1n : 0n));
      if (devChanged) writeVarint(bytes, BigInt(dev - prevDev));
      writeVarint(bytes, BigInt(left));
      if (bytes.length > maxBytes) {
        bytes.length = mark;
        break;
      }
      prevDev = dev;
      prevIno = ino;
      stored++;
    }
    return { data: Buffer.from(bytes).toString('base64'), stored, dropped: this.count - stored };
  }

  /** The inverse of {@link encode}; throws on malformed data. */
  static decode(data: string, expectedCount: number): HardLinkSet {
    const bytes = Buffer.from(data, 'base64');
    const set = new HardLinkSet();
    let pos = 0;
    let dev = 0;
    let ino = 0n;
    const read = (): bigint => {
      let value = 0n;
      let shift = 0n;
      for (;;) {
        if (pos >= bytes.length || shift > 70n) throw new Error('hard-link data is truncated or corrupt');
        const byte = bytes[pos++] as number;
        value |= BigInt(byte & 0x7f) << shift;
        if (byte < 0x80) return value;
        shift += 7n;
      }
    };
    let decoded = 0;
    while (pos < bytes.length) {
      const head = read();
      const devChanged = (head & 1n) === 1n || decoded === 0;
      if (devChanged) dev += Number(read());
      ino = devChanged ? head >> 1n : ino + (head >> 1n);
      const left = Number(read());
      if (left < 1 || left > 0xffffffff || ino >= 1n << 64n) throw new Error('hard-link data is corrupt');
      set.seen(dev, Number(ino >> 32n), Number(ino & 0xffffffffn), left + 1);
      decoded++;
    }
    if (decoded !== expectedCount)
      throw new Error(`hard-link data holds ${decoded} entries, expected ${expectedCount}`);
    return set;
  }

  private home(dev: number, hi: number, lo: number): number {
    let h =
      Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(dev | 0, 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  private insertAt(i: number, dev: number, hi: number, lo: number, left: number): void {
    this.dev[i] = dev;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.remaining[i] = left;
    this.count++;
    if (this.count * 2 > this.capacity) this.grow();
  }

  /** Backward-shift deletion keeps linear probing correct without tombstones. */
  private remove(i: number): void {
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.remaining[j] === 0) break;
      const k = this.home(this.dev[j] as number, this.hi[j] as number, this.lo[j] as number);
      const movable = hole <= j ? k <= hole || k > j : k <= hole && k > j;
      if (movable) {
        this.dev[hole] = this.dev[j] as number;
        this.hi[hole] = this.hi[j] as number;
        this.lo[hole] = this.lo[j] as number;
        this.remaining[hole] = this.remaining[j] as number;
        hole = j;
      }
    }
    this.remaining[hole] = 0;
    this.count--;
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.dev = new Float64Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.remaining = new Uint32Array(capacity);
  }

  private grow(): void {
    const old = [...this.entries()];
    this.allocate(this.capacity * 2);
    this.count = 0;
    for (const [dev, hi, lo, left] of old) {
      let i = this.home(dev, hi, lo);
      while (this.remaining[i] !== 0) i = (i + 1) & this.mask;
      this.insertAt(i, dev, hi, lo, left);
    }
  }
}

function writeVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}
