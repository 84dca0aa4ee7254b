/**
 * Makes text from outside (message properties, dead-letter headers, stored failure messages, directory names)
 * safe to print on an operator's terminal: C0 and C1 control characters, DEL, and the Unicode characters that
 * reorder or hide text (bidi overrides and isolates, zero-width characters, line and paragraph separators) are
 * shown as `\xNN` or `\u{NNNN}`, and a backslash is doubled so the escaping is unambiguous. Without this an escape
 * sequence in a messageId could clear the screen, move the cursor or fake lines of output.
 */
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\\]/gu;

export function printable(text: string): string {
  return text.replace(unsafe, (char) => {
    if (char === '\\') return '\\\\';
    const code = char.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** `printable` for a value that may be absent. */
export function printableOrDash(text: string | null | undefined): string {
  return text === null || text === undefined ? '-' : printable(text);
}
