import { isUtf8 } from 'node:buffer';

/**
 * Decodes `bytes[start, end)` as UTF-8 text, or returns `undefined` when the bytes are
 * not valid UTF-8.
 *
 * Names, unique ids and handles are nearly always ASCII, so that case is checked with a
 * plain loop and decoded as latin1 (identical to UTF-8 for ASCII, and cheaper).
 */
export function decodeText(bytes: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      return isUtf8(bytes.subarray(start, end)) ? bytes.toString('utf8', start, end) : undefined;
    }
  }
  return bytes.toString('latin1', start, end);
}

/** The UTF-8 byte length of `text`, with the same ASCII fast path. */
export function textByteLength(text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return n;
}
