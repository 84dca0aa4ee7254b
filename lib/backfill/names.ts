const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A directory entry name read as bytes: its text when it is valid UTF-8, and a printable form either way, with
 * control characters and undecodable bytes shown as \xNN (so a hostile name cannot move the cursor or break JSON).
 */
export function decodeName(bytes: Buffer): { text: string | undefined; shown: string } {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = undefined;
  }
  const shown =
    text !== undefined
      ? // eslint-disable-next-line no-control-regex -- control characters are exactly what we escape
        text.replace(/[\u0000-\u001f\u007f\\]/g, (c) => (c === '\\' ? '\\\\' : hex(c.charCodeAt(0))))
      : [...bytes]
          .map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : hex(byte)))
          .join('');
  return { text, shown };
}

function hex(code: number): string {
  return `\\x${code.toString(16).padStart(2, '0')}`;
}
