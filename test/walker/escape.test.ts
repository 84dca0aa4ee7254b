import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeByteString, escapeName } from '../../lib/walker/escape.js';

describe('escapeName', () => {
  it('keeps valid UTF-8 and printable ASCII as they are', () => {
    assert.equal(escapeName(Buffer.from('café/données ✓ 𝄞')), 'café/données ✓ 𝄞');
    assert.equal(escapeName(Buffer.from(' leading space')), ' leading space');
  });

  it('escapes invalid bytes, control characters and backslashes unambiguously', () => {
    assert.equal(escapeName(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe])), 'bad\\xff\\xfe');
    assert.equal(escapeName(Buffer.from('new\nline\ttab\x7f')), 'new\\x0aline\\x09tab\\x7f');
    assert.equal(escapeName(Buffer.from('back\\slash')), 'back\\\\slash');
    // A literal "\x41" in a name must not read like an escaped byte.
    assert.equal(escapeName(Buffer.from('\\x41')), '\\\\x41');
  });

  it('rejects overlong forms, surrogates, truncated sequences and C1 controls', () => {
    assert.equal(escapeName(Buffer.from([0xc0, 0xaf])), '\\xc0\\xaf'); // overlong "/"
    assert.equal(escapeName(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80'); // UTF-16 surrogate
    assert.equal(escapeName(Buffer.from([0xe2, 0x82])), '\\xe2\\x82'); // truncated
    assert.equal(escapeName(Buffer.from([0xf4, 0x90, 0x80, 0x80])), '\\xf4\\x90\\x80\\x80'); // > U+10FFFF
    assert.equal(escapeName(Buffer.from([0xc2, 0x85])), '\\xc2\\x85'); // U+0085, a C1 control
    assert.equal(escapeName(Buffer.from([0x64, 0x69, 0x72, 0xc3, 0x28])), 'dir\\xc3(');
  });

  it('escapes byte strings (one char per byte) the same way', () => {
    const bytes = Buffer.from([0x61, 0xc3, 0xa9, 0xff, 0x0a]);
    assert.equal(escapeByteString(bytes.toString('latin1')), escapeName(bytes));
    assert.equal(escapeByteString(bytes.toString('latin1')), 'aé\\xff\\x0a');
  });
});
