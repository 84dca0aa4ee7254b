/**
 * File names are bytes. For people, logs and JSON we show them as text: valid UTF-8 is kept, while control
 * characters (C0, DEL, C1) and bytes that are not valid UTF-8 become `\xNN`, and a backslash is doubled so the
 * escaping is unambiguous. The result is safe to print on a terminal and to put in JSON.
 */

const hex = (byte: number): string => `\\x${byte.toString(16).padStart(2, '0')}`;

/** Escapes one name (or any byte sequence). */
export function escapeName(name: Uint8Array): string {
  let out = '';
  let plainFrom = 0; // start of a run of printable ASCII copied in one go
  let i = 0;
  const flushPlain = (end: number): void => {
    if (end > plainFrom)
      out += Buffer.from(name.buffer, name.byteOffset + plainFrom, end - plainFrom).toString('latin1');
  };
  while (i < name.length) {
    const b = name[i] as number;
    if (b >= 0x20 && b < 0x7f && b !== 0x5c) {
      i++;
      continue;
    }
    flushPlain(i);
    if (b === 0x5c) {
      out += '\\\\';
      i++;
    } else if (b < 0x80) {
      out += hex(b); // C0 control or DEL
      i++;
    } else {
      const length = utf8SequenceLength(name, i);
      if (length === 0) {
        out += hex(b);
        i++;
      } else {
        const codePoint = decodeUtf8(name, i, length);
        if (codePoint >= 0x80 && codePoint <= 0x9f) {
          for (let k = 0; k < length; k++) out += hex(name[i + k] as number); // C1 control
        } else {
          out += String.fromCodePoint(codePoint);
        }
        i += length;
      }
    }
    plainFrom = i;
  }
  flushPlain(i);
  return out;
}

/** Escapes a name held as a byte string (one char per byte, as the walker reads names with 'latin1'). */
export function escapeByteString(bytes: string): string {
  return escapeName(Buffer.from(bytes, 'latin1'));
}

/**
 * Length of the well-formed UTF-8 sequence starting at `i`, or 0 if it is not one (overlong forms, surrogates
 * and code points above U+10FFFF are not well-formed; see the Unicode standard, table 3-7).
 */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function decodeUtf8(bytes: Uint8Array, i: number, length: number): number {
  const b = (k: number): number => (bytes[i + k] as number) & 0x3f;
  const b0 = bytes[i] as number;
  if (length === 2) return ((b0 & 0x1f) << 6) | b(1);
  if (length === 3) return ((b0 & 0x0f) << 12) | (b(1) << 6) | b(2);
  return ((b0 & 0x07) << 18) | (b(1) << 12) | (b(2) << 6) | b(3);
}
