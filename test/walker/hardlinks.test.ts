import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HardLinkSet } from '../../lib/walker/hardlinks.js';

describe('HardLinkSet', () => {
  it('counts an inode at its first link and forgets it after its last', () => {
    const set = new HardLinkSet();
    assert.equal(set.seen(2049, 0, 100, 3), false);
    assert.equal(set.size, 1);
    assert.equal(set.seen(2049, 0, 100, 3), true);
    assert.equal(set.seen(2049, 0, 100, 3), true);
    assert.equal(set.size, 0, 'all three links seen: nothing more to remember');
    // Same inode number on another device is another file.
    assert.equal(set.seen(2050, 0, 100, 2), false);
    assert.equal(set.seen(2049, 0, 100, 2), false);
  });

  it('keeps inode numbers above 2^53 apart', () => {
    const set = new HardLinkSet();
    const hi = 0x00300000; // inode ≈ 2^53.6
    assert.equal(set.seen(1, hi, 1, 2), false);
    assert.equal(set.seen(1, hi, 2, 2), false, 'differs only in the last bit after a Number rounding');
    assert.equal(set.seen(1, hi, 1, 2), true);
  });

  it('survives growth and deletions (many inodes, removed in another order)', () => {
    const set = new HardLinkSet();
    const n = 50_000;
    for (let i = 0; i < n; i++) assert.equal(set.seen(7, i % 3, i * 7919, 2), false);
    assert.equal(set.size, n);
    for (let i = n - 1; i >= 0; i -= 2) assert.equal(set.seen(7, i % 3, i * 7919, 2), true);
    assert.equal(set.size, n / 2);
    for (let i = 0; i < n; i += 2) assert.equal(set.seen(7, i % 3, i * 7919, 2), true);
    assert.equal(set.size, 0);
  });

  it('encodes compactly and decodes to the same set', () => {
    const set = new HardLinkSet();
    for (let i = 0; i < 10_000; i++) set.seen(2049 + (i % 2), 0, 1_000_000 + i * 3, 2 + (i % 5));
    set.seen(9, 0xffffffff, 0xffffffff, 4); // inode 2^64 - 1
    const encoded = set.encode(1_000_000);
    assert.equal(encoded.stored, set.size);
    assert.equal(encoded.dropped, 0);
    assert.ok(encoded.data.length < 30_000, `${encoded.data.length} characters for 10,001 inodes`);
    const copy = HardLinkSet.decode(encoded.data, encoded.stored);
    assert.deepEqual(
      [...copy.entries()].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]),
      [...set.entries()].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]),
    );
  });

  it('drops what does not fit and says how many', () => {
    const set = new HardLinkSet();
    for (let i = 0; i < 1000; i++) set.seen(1, 0, i * 1_000_003, 2);
    const encoded = set.encode(500);
    assert.ok(encoded.stored > 0 && encoded.stored < 1000);
    assert.equal(encoded.stored + encoded.dropped, 1000);
    assert.equal(HardLinkSet.decode(encoded.data, encoded.stored).size, encoded.stored);
  });

  it('refuses corrupt data', () => {
    assert.throws(() => HardLinkSet.decode(Buffer.from([0x80]).toString('base64'), 1), /corrupt|truncated/);
    assert.throws(() => HardLinkSet.decode('', 3), /expected 3/);
  });
});
