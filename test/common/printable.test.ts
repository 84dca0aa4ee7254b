import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from '../../lib/common/printable.js';

describe('printable: text from outside cannot drive the terminal', () => {
  it('escapes ANSI escape sequences, carriage returns and newlines', () => {
    assert.equal(printable('\u001b[2J\u001b[Hok'), '\\x1b[2J\\x1b[Hok');
    assert.equal(printable('fake\r\nline'), 'fake\\x0d\\x0aline');
    assert.equal(printable('bell\u0007 del\u007f c1\u009b'), 'bell\\x07 del\\x7f c1\\x9b');
  });

  it('escapes characters that reorder or hide text', () => {
    assert.equal(printable('a\u202ecba'), 'a\\u{202e}cba');
    assert.equal(printable('zero\u200bwidth'), 'zero\\u{200b}width');
    assert.equal(printable('iso\u2066late\u2069'), 'iso\\u{2066}late\\u{2069}');
  });

  it('doubles a backslash, so an escaped form and a literal one are told apart', () => {
    assert.equal(printable('\\x1b'), '\\\\x1b');
  });

  it('leaves ordinary text, including non-ASCII letters, as it is', () => {
    assert.equal(printable('café — 10 MiB·day ≤30 days'), 'café — 10 MiB·day ≤30 days');
  });
});
