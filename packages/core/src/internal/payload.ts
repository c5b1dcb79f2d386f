import { owned } from '@geartrain/protocol';
// Imported, not the global: Node's global `Buffer` is a getter on globalThis, which every use
// calls through an inline cache (about 100 instructions; three uses a job: decision 33).
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { PayloadInput } from '../types.js';

/**
 * How a queued job holds its payload. Small payloads are kept as latin1 strings (one char
 * per byte): a V8 string costs a fraction of a Buffer object, which matters with a million
 * queued jobs. Larger payloads stay Buffers.
 */
export type Body = string | Buffer;

/** Payloads of at most this many bytes are held as strings. */
const INLINE_LIMIT = 64;

const EMPTY = Buffer.alloc(0);

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Converts what a caller gave into a Buffer. @throws InvalidArgumentError */
export function toBuffer(input: PayloadInput | undefined | null): Buffer {
  if (input === undefined || input === null) return EMPTY;
  if (Buffer.isBuffer(input)) return input;
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.length);
  throw new InvalidArgumentError('a payload must be a Buffer, a Uint8Array or a string');
}

/**
 * The body to queue for a payload. With `compact` (background jobs, which may queue by the
 * million) a small payload becomes a string. Other payloads are kept by the rule for decoded
 * bytes (`owned`: a small view of a large socket read is copied, so it does not pin it).
 */
export function toBody(input: PayloadInput | undefined | null, compact: boolean): Body {
  if (compact && typeof input === 'string' && input.length <= INLINE_LIMIT && isAscii(input)) {
    return input;
  }
  const buffer = toBuffer(input);
  if (compact && buffer.length <= INLINE_LIMIT) return latin1(buffer);
  return owned(buffer);
}

/** The payload of a body as a Buffer. */
export function fromBody(body: Body): Buffer {
  if (typeof body !== 'string') return body;
  // allocUnsafe takes small Buffers from Node's pool; latin1Write copies one byte per char.
  const buffer = Buffer.allocUnsafe(body.length);
  (buffer as LatinBuffer).latin1Write(body, 0, body.length);
  return buffer;
}

/**
 * Node's Buffer has had `latin1Slice`/`latin1Write` since 6.x; `toString('latin1')` and
 * `Buffer.from(s, 'latin1')` end in them after argument handling we do not need here.
 */
interface LatinBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
}

function latin1(buffer: Buffer): string {
  return (buffer as LatinBuffer).latin1Slice(0, buffer.length);
}

/** Byte-wise equality of two bodies (for payload coalescing with the `-` unique). */
export function sameBody(a: Body, b: Body): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return fromBody(a).equals(fromBody(b));
}

/**
 * The coalescing key of a body for the `-` unique: a small payload is its own key (as a
 * latin1 string, whatever the body's form), a larger one a SHA-256 digest (longer than any small body, so the two never collide). A hit is
 * confirmed with {@link sameBody}.
 */
export function payloadKey(body: Body): string {
  if (typeof body === 'string') return body;
  if (body.length <= INLINE_LIMIT) return latin1(body);
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}
