import { ProtocolError } from './errors.js';
import { ChunkQueue } from './internal/chunk-queue.js';
import { decodeText } from './internal/text.js';
import {
  BARE_HANDLE_MEANS_EMPTY_DATA,
  HEADER_SIZE,
  MAGIC_REQ,
  MAGIC_RES,
  SPEC_BY_CODE,
  type Magic,
  type Packet,
  type PacketSpec,
} from './packets.js';

/** Where a {@link Decoder} delivers what it reads, in stream order. */
export interface DecoderSink {
  /** A whole binary packet. Its `data` may be a view of a pushed chunk (see {@link Decoder}). */
  packet(packet: Packet, magic: Magic): void;
  /** A whole admin text line, without its `\n` and without one `\r` before it. */
  text(line: string): void;
  /** A protocol violation. After one with `resyncable: false`, nothing more is delivered. */
  error(error: ProtocolError): void;
}

export interface DecoderOptions {
  /**
   * Largest payload (the header's size field) accepted, in bytes. Checked against the
   * header before any of the body is buffered. Default 64 MiB.
   */
  maxPacketSize?: number;
  /** Longest admin text line accepted, `\n` included. Default 8192, gearmand's buffer. */
  maxLineLength?: number;
  /**
   * Whether a message starting with a non-zero byte is an admin text line (what a server
   * accepts, reference §1.3). When false, such a message is a `BAD_MAGIC` error. Default true.
   */
  text?: boolean;
  /**
   * Lets large bodies be filled as they arrive (see {@link FillBudget}); shared by the
   * decoders of one server. Without one, a body spanning reads is joined once it is whole.
   */
  fillBudget?: FillBudget;
}

export const DEFAULT_MAX_PACKET_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_LINE_LENGTH = 8192;

/**
 * Bytes that decoders may allocate for large bodies before those bytes have arrived.
 *
 * A body of 256 KiB or more that spans reads is, with a budget, copied into its own Buffer
 * read by read as it comes, instead of queued and joined when whole: each copy reads a
 * chunk just received, still in the cache, and lets it go (server CPU per 1 MiB round trip
 * 0.88× in decision 29). But that Buffer is allocated from the header alone, so a peer that
 * sends headers and stalls would make the server allocate what it never sent. The budget
 * bounds that, across every connection that shares it: a body is filled as it comes only
 * while its missing bytes fit in what is left, and gives them back as they arrive (or when
 * its decoder is cleared). Past the budget, bodies are joined when whole, as without one.
 */
export class FillBudget {
  constructor(private available: number) {
    if (!(available >= 0)) {
      throw new RangeError(`a fill budget is a number of bytes ≥ 0, not ${available}`);
    }
  }

  /** Bytes not reserved now. */
  get left(): number {
    return this.available;
  }

  /** Reserves `bytes` if that many are left. */
  take(bytes: number): boolean {
    if (bytes > this.available) return false;
    this.available -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.available += bytes;
  }
}

/** A body at least this large that spans reads may be filled as it comes (FillBudget). */
const FILL_THRESHOLD = 256 * 1024;

/** A large packet whose body is being filled as chunks arrive. */
interface Filling {
  readonly magicWord: number;
  readonly type: number;
  readonly body: Buffer;
  filled: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Incremental Gearman decoder: push chunks of any size, receive whole packets and admin
 * text lines through the sink, decided per message by its first byte as gearmand does.
 *
 * Zero-copy: a packet whose bytes arrived in one chunk is parsed in place, and its `data`
 * is a `subarray` of that chunk (so it keeps the chunk alive while referenced; copy it with
 * `Buffer.from(data)` before storing it for long). A packet spanning chunks is copied once.
 *
 * `push` never throws on any input: violations are reported to `sink.error` as
 * {@link ProtocolError}s. Exceptions thrown by the sink itself propagate out of `push`; the
 * message that was being delivered counts as consumed.
 */
export class Decoder {
  private readonly queue = new ChunkQueue();
  private readonly budget: FillBudget | null;
  private filling: Filling | null = null;
  private readonly sink: DecoderSink;
  private readonly maxPacketSize: number;
  private readonly maxLineLength: number;
  private readonly acceptText: boolean;
  private dead = false;

  constructor(sink: DecoderSink, options: DecoderOptions = {}) {
    this.sink = sink;
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.acceptText = options.text ?? true;
    this.budget = options.fillBudget ?? null;
  }

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.queue.length + (this.filling?.filled ?? 0);
  }

  /** Bytes copied so far because a message spanned chunks. */
  get copiedBytes(): number {
    return this.queue.copiedBytes + this.filledBytes;
  }

  /** Bytes copied into large bodies as they arrived (FillBudget). */
  private filledBytes = 0;

  /** True once a non-resyncable error has been reported; later pushes are ignored. */
  get failed(): boolean {
    return this.dead;
  }

  push(chunk: Buffer): void {
    if (this.dead || chunk.length === 0) return;
    const filling = this.filling;
    if (filling === null) {
      this.queue.push(chunk);
      this.drain();
      return;
    }
    const take = Math.min(chunk.length, filling.body.length - filling.filled);
    chunk.copy(filling.body, filling.filled, 0, take);
    filling.filled += take;
    this.filledBytes += take;
    this.budget!.give(take);
    if (filling.filled < filling.body.length) return;
    this.filling = null;
    // What follows the body is queued first, so a sink that throws leaves it as it was.
    if (take < chunk.length) this.queue.push(chunk.subarray(take));
    this.deliver(filling.magicWord, filling.type, filling.body);
    this.drain();
  }

  /** Delivers every whole message queued. */
  private drain(): void {
    const queue = this.queue;
    while (!this.dead && queue.length > 0) {
      if (this.acceptText && queue.byteAt(0) !== 0) {
        if (!this.readLine()) return;
        continue;
      }
      if (!magicPrefixValid(queue)) {
        this.fail(
          new ProtocolError('BAD_MAGIC', 'packet magic is neither \\0REQ nor \\0RES', {
            resyncable: false,
          }),
        );
        return;
      }
      if (queue.length < HEADER_SIZE) return;
      const magicWord = queue.uint32At(0);
      const type = queue.uint32At(4);
      const size = queue.uint32At(8);
      if (size > this.maxPacketSize) {
        this.fail(
          new ProtocolError(
            'TOO_LARGE',
            `packet payload of ${size} bytes exceeds the limit of ${this.maxPacketSize}`,
            { resyncable: false, packetType: type },
          ),
        );
        return;
      }
      if (queue.length < HEADER_SIZE + size) {
        if (size >= FILL_THRESHOLD) this.startFilling(magicWord, type, size);
        return;
      }
      queue.skip(HEADER_SIZE);
      this.deliver(magicWord, type, size === 0 ? EMPTY : queue.consume(size));
    }
  }

  /**
   * Moves a large packet's received part into its own body, where the rest goes as it
   * comes, if the budget has room for the rest; otherwise it waits in the queue.
   */
  private startFilling(magicWord: number, type: number, size: number): void {
    const queue = this.queue;
    const filled = queue.length - HEADER_SIZE;
    if (this.budget === null || !this.budget.take(size - filled)) return;
    queue.skip(HEADER_SIZE);
    const body = Buffer.allocUnsafe(size);
    queue.copyInto(body, filled);
    this.filling = { magicWord, type, body, filled };
  }

  /** Parses a whole packet's body and hands the packet (or its error) to the sink. */
  private deliver(magicWord: number, type: number, body: Buffer): void {
    const spec = SPEC_BY_CODE[type];
    if (spec === undefined) {
      this.sink.error(
        new ProtocolError('UNKNOWN_TYPE', `packet type ${type} is not a Gearman packet`, {
          resyncable: true,
          packetType: type,
        }),
      );
      return;
    }
    const packet = parseBody(spec, body);
    if (packet instanceof ProtocolError) this.sink.error(packet);
    else this.sink.packet(packet, magicWord === MAGIC_REQ ? 'REQ' : 'RES');
  }

  /** Gives the budget back what a body being filled still waits for. */
  private stopFilling(): void {
    const filling = this.filling;
    if (filling === null) return;
    this.filling = null;
    this.budget!.give(filling.body.length - filling.filled);
  }

  /** Drops everything buffered (for a connection being torn down). */
  clear(): void {
    this.queue.clear();
    this.stopFilling();
  }

  /** Reads one text line; false when more bytes are needed or the stream failed. */
  private readLine(): boolean {
    const queue = this.queue;
    const newline = queue.indexOf(NEWLINE, this.maxLineLength);
    if (newline === -1) {
      if (queue.length >= this.maxLineLength) {
        this.fail(
          new ProtocolError(
            'LINE_TOO_LONG',
            `admin text line exceeds the limit of ${this.maxLineLength} bytes`,
            { resyncable: false },
          ),
        );
      }
      return false;
    }
    const raw = queue.consume(newline + 1);
    let end = newline;
    if (end > 0 && raw[end - 1] === CARRIAGE_RETURN) end--;
    const line = decodeText(raw, 0, end);
    if (line === undefined) {
      this.sink.error(
        new ProtocolError('INVALID_TEXT', 'admin text line is not valid UTF-8', {
          resyncable: true,
        }),
      );
    } else {
      this.sink.text(line);
    }
    return true;
  }

  private fail(error: ProtocolError): void {
    this.dead = true;
    this.queue.clear();
    this.stopFilling();
    this.sink.error(error);
  }
}

const EMPTY = Buffer.alloc(0);

/** Whether the bytes received so far can begin `\0REQ` or `\0RES`. */
function magicPrefixValid(queue: ChunkQueue): boolean {
  const n = Math.min(queue.length, 4);
  if (n === 4) {
    const word = queue.uint32At(0);
    return word === MAGIC_REQ || word === MAGIC_RES;
  }
  if (queue.byteAt(0) !== 0) return false;
  if (n > 1 && queue.byteAt(1) !== 0x52) return false;
  if (n > 2 && queue.byteAt(2) !== 0x45) return false;
  return true;
}

/** Splits a packet body into its named arguments and data (reference §1.1). */
function parseBody(spec: PacketSpec, body: Buffer): Packet | ProtocolError {
  const packet: Record<string, unknown> = { type: spec.name };
  const args = spec.args;
  const size = body.length;
  let pos = 0;
  for (let i = 0; i < args.length; i++) {
    let end: number;
    let next: number;
    if (i === args.length - 1 && !spec.data) {
      end = size;
      next = size;
    } else {
      end = body.indexOf(0, pos);
      if (end !== -1) next = end + 1;
      else if (args.length === 1 && BARE_HANDLE_MEANS_EMPTY_DATA.has(spec.code)) {
        // A bare handle: the data is empty.
        end = size;
        next = size;
      } else {
        return new ProtocolError(
          'MALFORMED_PACKET',
          `${spec.name} needs ${spec.data ? args.length : args.length - 1} NUL-terminated arguments`,
          { resyncable: true, packetType: spec.code },
        );
      }
    }
    const value = decodeText(body, pos, end);
    if (value === undefined) {
      return new ProtocolError('INVALID_TEXT', `${spec.name} ${args[i]} is not valid UTF-8`, {
        resyncable: true,
        packetType: spec.code,
      });
    }
    packet[args[i]!] = value;
    pos = next;
  }
  if (spec.data) packet['data'] = pos === 0 ? body : body.subarray(pos);
  return packet as Packet;
}

/** One message of a decoded stream, as returned by {@link decodeAll}. */
export type DecodedMessage =
  | { readonly kind: 'packet'; readonly magic: Magic; readonly packet: Packet }
  | { readonly kind: 'text'; readonly line: string }
  | { readonly kind: 'error'; readonly error: ProtocolError };

/** Decodes a whole buffer at once; convenient for tests and tools. */
export function decodeAll(bytes: Buffer, options?: DecoderOptions): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  const decoder = new Decoder(
    {
      packet: (packet, magic) => out.push({ kind: 'packet', magic, packet }),
      text: (line) => out.push({ kind: 'text', line }),
      error: (error) => out.push({ kind: 'error', error }),
    },
    options,
  );
  decoder.push(bytes);
  return out;
}
