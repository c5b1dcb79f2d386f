import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LINE_LENGTH,
  Decoder,
  FillBudget,
  decodeAll,
  PACKET_TYPES,
  PacketWriter,
  ProtocolError,
  encode,
  encodeMany,
  type DecodedMessage,
  type Magic,
  type Packet,
  type PacketSpec,
} from '../src/index.js';

/** Any Unicode text (lone surrogates excluded: they are not encodable as UTF-8). */
const text = (nul: boolean) =>
  fc.string({ unit: 'grapheme', maxLength: 24 }).map((s) => (nul ? s : s.replaceAll('\0', '')));

const binary = fc
  .uint8Array({ maxLength: 300 })
  .map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));

function packetOf(spec: PacketSpec): fc.Arbitrary<Packet> {
  const fields: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(spec.name) };
  spec.args.forEach((name, i) => {
    // Only the last argument of a packet without data may contain NUL bytes (reference §1.1).
    fields[name] = text(!spec.data && i === spec.args.length - 1);
  });
  if (spec.data) fields['data'] = binary;
  return fc.record(fields) as fc.Arbitrary<Packet>;
}

const anyPacket: fc.Arbitrary<Packet> = fc.oneof(...PACKET_TYPES.map(packetOf));
const magic: fc.Arbitrary<Magic> = fc.constantFrom('REQ', 'RES');

/** Feeds `bytes` split at the given cut points and returns what was decoded. */
function decodeSplit(bytes: Buffer, cuts: number[], fillBudget?: FillBudget): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  const decoder = new Decoder(
    {
      packet: (packet, m) => out.push({ kind: 'packet', magic: m, packet }),
      text: (line) => out.push({ kind: 'text', line }),
      error: (error) => out.push({ kind: 'error', error }),
    },
    { fillBudget },
  );
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let last = 0;
  for (const point of [...points, bytes.length]) {
    decoder.push(bytes.subarray(last, point));
    last = point;
  }
  return out;
}

describe('round trips (fast-check)', () => {
  it.each(PACKET_TYPES.map((spec) => [spec.name, spec] as const))(
    '%s survives encode then decode under random splits',
    (_name, spec) => {
      fc.assert(
        fc.property(
          packetOf(spec),
          magic,
          fc.array(fc.nat(), { maxLength: 8 }),
          (packet, m, cuts) => {
            expect(decodeSplit(encode(packet, m), cuts)).toEqual([
              { kind: 'packet', magic: m, packet },
            ]);
          },
        ),
        { numRuns: 150 },
      );
    },
  );

  it('a batch from encodeMany or PacketWriter decodes to the same packets in order', () => {
    fc.assert(
      fc.property(
        fc.array(anyPacket, { maxLength: 20 }),
        magic,
        fc.integer({ min: 0, max: 400 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (packets, m, inlineDataLimit, cuts) => {
          const expected = packets.map((packet) => ({ kind: 'packet', magic: m, packet }));
          expect(decodeSplit(encodeMany(packets, m), cuts)).toEqual(expected);
          const writer = new PacketWriter(m, { inlineDataLimit });
          for (const packet of packets) writer.write(packet);
          expect(writer.pending).toBe(packets.length);
          const chunks = writer.flush();
          expect(writer.pending).toBe(0);
          expect(decodeSplit(Buffer.concat(chunks), cuts)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one PacketWriter reused for batch after batch sends each batch once, in order', () => {
    // The writer keeps its arrays between batches: a longer batch before a shorter one must
    // not leave packets behind.
    fc.assert(
      fc.property(
        fc.array(fc.array(anyPacket, { maxLength: 8 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 400 }),
        (batches, inlineDataLimit) => {
          const writer = new PacketWriter('RES', { inlineDataLimit });
          const chunks: Buffer[] = [Buffer.from('kept')];
          for (const [i, batch] of batches.entries()) {
            for (const packet of batch) writer.write(packet);
            const expected = batch.map((packet) => ({ kind: 'packet', magic: 'RES', packet }));
            if (i % 2 === 0) {
              expect(decodeSplit(Buffer.concat(writer.flush()), [])).toEqual(expected);
            } else {
              chunks.length = 1;
              writer.flushInto(chunks);
              expect(chunks[0]!.toString()).toBe('kept');
              expect(decodeSplit(Buffer.concat(chunks.slice(1)), [])).toEqual(expected);
            }
            expect(writer.pending).toBe(0);
          }
          expect(writer.flush()).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Decoded messages with every Buffer replaced by its SHA-1. */
function digest(messages: DecodedMessage[]): string {
  return JSON.stringify(messages, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as { type?: string }).type === 'Buffer'
      ? createHash('sha1')
          .update(Buffer.from((value as { data: number[] }).data))
          .digest('hex')
      : value,
  );
}

describe('large bodies filled as they come (FillBudget)', () => {
  it('decode as when joined at the end, under random splits and budgets, and give the budget back', () => {
    fc.assert(
      fc.property(
        fc.array(anyPacket, { maxLength: 3 }),
        fc.integer({ min: 256 * 1024, max: 320 * 1024 }),
        fc.integer({ min: 0, max: 255 }),
        fc.array(anyPacket, { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 0, max: 640 * 1024 }),
        (before, size, fill, after, cuts, room) => {
          const large: Packet = {
            type: 'WORK_COMPLETE',
            handle: 'H:x:1',
            data: Buffer.alloc(size, fill),
          };
          const bytes = Buffer.from(encodeMany([...before, large, ...after], 'REQ'));
          const budget = new FillBudget(room);
          // Compared by digest: deep equality of 300 KiB Buffers is slow.
          expect(digest(decodeSplit(bytes, cuts, budget))).toEqual(digest(decodeAll(bytes)));
          expect(budget.left).toBe(room);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('garbage never throws and never hangs', () => {
  const MAX_PACKET = 4096;

  /** Feeds bytes and checks that only packets and ProtocolErrors come out. */
  function feed(bytes: Buffer, cuts: number[]): void {
    let fatal = false;
    const decoder = new Decoder(
      {
        packet: (packet) => {
          expect(typeof packet.type).toBe('string');
        },
        text: (line) => {
          expect(typeof line).toBe('string');
        },
        error: (error) => {
          expect(error).toBeInstanceOf(ProtocolError);
          if (!error.resyncable) fatal = true;
        },
      },
      { maxPacketSize: MAX_PACKET },
    );
    let last = 0;
    for (const point of [
      ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b),
      bytes.length,
    ]) {
      decoder.push(bytes.subarray(last, point));
      last = point;
    }
    expect(decoder.failed).toBe(fatal);
    // Whatever is still buffered is at most one incomplete message within the limits.
    expect(decoder.buffered).toBeLessThanOrEqual(
      Math.max(MAX_PACKET + 12, DEFAULT_MAX_LINE_LENGTH),
    );
  }

  const cuts = fc.array(fc.nat(), { maxLength: 6 });

  it('50,000 random buffers yield only packets and ProtocolErrors', () => {
    const biased = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Start with a valid magic so random bytes reach the header and body parsers.
      fc
        .tuple(
          fc.constantFrom([0, 0x52, 0x45, 0x51], [0, 0x52, 0x45, 0x53]),
          fc.uint8Array({ maxLength: 200 }),
        )
        .map(([m, rest]) => Uint8Array.from([...m, ...rest])),
    );
    fc.assert(
      fc.property(biased, cuts, (bytes, c) => feed(Buffer.from(bytes), c)),
      { numRuns: 50_000 },
    );
  });

  it('50,000 mutated valid streams yield only packets and ProtocolErrors', () => {
    const mutated = fc
      .tuple(
        fc.array(anyPacket, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
      )
      .map(([packets, flips, truncate]) => {
        const bytes = Buffer.from(encodeMany(packets, 'REQ'));
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        return bytes.subarray(0, bytes.length - (truncate % 3 === 0 ? truncate % bytes.length : 0));
      });
    fc.assert(
      fc.property(mutated, cuts, (bytes, c) => feed(bytes, c)),
      { numRuns: 50_000 },
    );
  });
});

describe('encoder argument checks', () => {
  it('refuses a NUL byte inside a NUL-terminated argument', () => {
    expect(() =>
      encode(
        { type: 'SUBMIT_JOB', functionName: 'a\0b', unique: '', data: Buffer.alloc(0) },
        'REQ',
      ),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() =>
      new PacketWriter('RES').write({
        type: 'STATUS_RES',
        handle: 'H\0',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
      }),
    ).toThrow(ProtocolError);
  });

  it('allows a NUL byte in the last argument of a packet without data', () => {
    const bytes = encode({ type: 'WORK_FAIL', handle: 'H:x:1\0' }, 'RES');
    expect(bytes.subarray(12).toString('latin1')).toBe('H:x:1\0');
  });

  it('refuses a missing argument or data with a typed error', () => {
    expect(() => encode({ type: 'CAN_DO' } as unknown as Packet, 'REQ')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => encode({ type: 'ECHO_REQ', data: 'text' } as unknown as Packet, 'REQ')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => encode({ type: 'NOPE' } as unknown as Packet, 'REQ')).toThrow(ProtocolError);
  });

  it('passes large data through PacketWriter without copying it', () => {
    const data = Buffer.alloc(100_000, 7);
    const writer = new PacketWriter('RES');
    writer.write({ type: 'NOOP' });
    writer.write({ type: 'WORK_COMPLETE', handle: 'H:x:1', data });
    writer.write({ type: 'NOOP' });
    const chunks = writer.flush();
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(data);
    expect(writer.flush()).toEqual([]);
  });
});
