import { describe, expect, it } from 'vitest';
import {
  Decoder,
  FillBudget,
  ProtocolError,
  decodeAll,
  encode,
  type DecodedMessage,
  type DecoderOptions,
  type Packet,
} from '../src/index.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A decoder that records everything it delivers. */
function recorder(options?: DecoderOptions) {
  const messages: DecodedMessage[] = [];
  const decoder = new Decoder(
    {
      packet: (packet, magic) => messages.push({ kind: 'packet', magic, packet }),
      text: (line) => messages.push({ kind: 'text', line }),
      error: (error) => messages.push({ kind: 'error', error }),
    },
    options,
  );
  return { decoder, messages };
}

const errorCodes = (messages: DecodedMessage[]) =>
  messages.flatMap((m) => (m.kind === 'error' ? [m.error.code] : []));

const submit: Packet = {
  type: 'SUBMIT_JOB',
  functionName: 'reverse',
  unique: 'u1',
  data: Buffer.from('hello'),
};
const echo: Packet = { type: 'ECHO_REQ', data: Buffer.from('ping') };

describe('Decoder feeding', () => {
  const stream = Buffer.concat([
    encode(submit, 'REQ'),
    Buffer.from('status\r\n'),
    encode(echo, 'REQ'),
    Buffer.from('version\n'),
    encode({ type: 'JOB_CREATED', handle: 'H:x:1' }, 'RES'),
  ]);
  const expected: DecodedMessage[] = [
    { kind: 'packet', magic: 'REQ', packet: submit },
    { kind: 'text', line: 'status' },
    { kind: 'packet', magic: 'REQ', packet: echo },
    { kind: 'text', line: 'version' },
    { kind: 'packet', magic: 'RES', packet: { type: 'JOB_CREATED', handle: 'H:x:1' } },
  ];

  it('decodes a whole buffer with binary packets and text lines mixed (reference §1.3)', () => {
    expect(decodeAll(stream)).toEqual(expected);
  });

  it('decodes the same stream fed one byte at a time', () => {
    const { decoder, messages } = recorder();
    for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
    expect(messages).toEqual(expected);
    expect(decoder.buffered).toBe(0);
  });

  it('decodes the same stream split at every possible pair of points', () => {
    for (let a = 1; a < stream.length; a += 3) {
      for (let b = a; b < stream.length; b += 5) {
        const { decoder, messages } = recorder();
        decoder.push(stream.subarray(0, a));
        decoder.push(stream.subarray(a, b));
        decoder.push(stream.subarray(b));
        expect(messages).toEqual(expected);
      }
    }
  });

  it('strips exactly one carriage return before the newline', () => {
    expect(decodeAll(Buffer.from('a\r\r\nb\n\n'))).toEqual([
      { kind: 'text', line: 'a\r' },
      { kind: 'text', line: 'b' },
      { kind: 'text', line: '' },
    ]);
  });

  it('decodes UTF-8 names and admin lines', () => {
    const packet: Packet = { type: 'CAN_DO', functionName: 'résumé→pdf' };
    expect(
      decodeAll(Buffer.concat([encode(packet, 'REQ'), Buffer.from('drop function é\n')])),
    ).toEqual([
      { kind: 'packet', magic: 'REQ', packet },
      { kind: 'text', line: 'drop function é' },
    ]);
  });
});

describe('Decoder zero-copy reads', () => {
  it('returns data as a view of the pushed chunk when the packet lies in one chunk', () => {
    const chunk = encode(submit, 'REQ');
    const { decoder, messages } = recorder();
    decoder.push(chunk);
    const first = messages[0];
    if (first?.kind !== 'packet' || first.packet.type !== 'SUBMIT_JOB')
      throw new Error('no packet');
    expect(first.packet.data.buffer).toBe(chunk.buffer);
    expect(first.packet.data.byteOffset).toBe(chunk.byteOffset + chunk.length - 5);
    expect(decoder.copiedBytes).toBe(0);
  });

  it('copies a 1 MiB data argument arriving in 64 KiB chunks exactly once', () => {
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const bytes = encode({ type: 'WORK_COMPLETE', handle: 'H:x:1', data }, 'REQ');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      chunks.push(Buffer.from(bytes.subarray(i, i + 64 * 1024)));
    }
    const { decoder, messages } = recorder();
    for (const chunk of chunks) decoder.push(chunk);
    expect(messages).toHaveLength(1);
    const first = messages[0];
    if (first?.kind !== 'packet' || first.packet.type !== 'WORK_COMPLETE')
      throw new Error('no packet');
    const received = first.packet.data;
    expect(received.equals(data)).toBe(true);
    // The body (handle, NUL and data) is copied once; the header is read in place.
    expect(decoder.copiedBytes).toBe(bytes.length - 12);
    expect(chunks.some((chunk) => chunk.buffer === received.buffer)).toBe(false);
  });
});

describe('Decoder large bodies split across reads', () => {
  const big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  const large: Packet = { type: 'SUBMIT_JOB', functionName: 'f', unique: '', data: big };
  const stream = Buffer.concat([encode(echo, 'REQ'), encode(large, 'REQ'), encode(submit, 'REQ')]);
  const bodyBytes = stream.length - encode(echo, 'REQ').length - encode(submit, 'REQ').length - 12;

  function chunked(size: number): Buffer[] {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size)
      chunks.push(Buffer.from(stream.subarray(i, i + size)));
    return chunks;
  }

  const sizes = [7, 12, 4096, 65_536 + 3, 200_000, stream.length];
  it.each(
    sizes.flatMap((size) => [
      { size, budget: 'none' },
      { size, budget: 'room' },
    ]),
  )(
    'decodes the packets around it the same in chunks of $size bytes, copying the body once (fill budget: $budget)',
    ({ size, budget }) => {
      const fillBudget = budget === 'room' ? new FillBudget(1 << 20) : undefined;
      const { decoder, messages } = recorder({ fillBudget });
      for (const chunk of chunked(size)) decoder.push(chunk);
      // Everything reserved while the body came is given back.
      if (fillBudget !== undefined) expect(fillBudget.left).toBe(1 << 20);
      expect(messages).toEqual(decodeAll(stream));
      expect(messages.map((m) => (m.kind === 'packet' ? m.packet.type : m.kind))).toEqual([
        'ECHO_REQ',
        'SUBMIT_JOB',
        'SUBMIT_JOB',
      ]);
      expect(decoder.buffered).toBe(0);
      // Once when it spans chunks (the last case has it whole in one chunk: a view); the
      // small packets around it are copied too when they span chunks.
      expect(decoder.copiedBytes).toBeLessThanOrEqual(stream.length - 12);
      if (size < stream.length) expect(decoder.copiedBytes).toBeGreaterThanOrEqual(bodyBytes);
    },
  );

  it('reserves a large body’s missing bytes from its header on, and gives them back as they come', () => {
    const budget = new FillBudget(1 << 20);
    const { decoder, messages } = recorder({ fillBudget: budget });
    const packet = encode(large, 'REQ');
    const header = 12;
    decoder.push(packet.subarray(0, header + 1000));
    expect(budget.left).toBe((1 << 20) - (packet.length - header - 1000));
    expect(decoder.buffered).toBe(1000);
    decoder.push(packet.subarray(header + 1000, header + 100_000));
    expect(budget.left).toBe((1 << 20) - (packet.length - header - 100_000));
    expect(decoder.buffered).toBe(100_000);
    decoder.push(packet.subarray(header + 100_000));
    expect(budget.left).toBe(1 << 20);
    expect(messages).toEqual(decodeAll(packet));
  });

  it('joins a large body at the end when the shared budget has no room, and when cleared gives back what was reserved', () => {
    const budget = new FillBudget(400 * 1024);
    const first = recorder({ fillBudget: budget });
    const second = recorder({ fillBudget: budget });
    const packet = encode(large, 'REQ');
    // The first stalls after its header, holding 300 KiB of the budget: the second cannot.
    const body = packet.length - 12;
    first.decoder.push(packet.subarray(0, 12));
    expect(budget.left).toBe(400 * 1024 - body);
    second.decoder.push(packet.subarray(0, 50_000));
    expect(budget.left).toBe(400 * 1024 - body);
    second.decoder.push(packet.subarray(50_000));
    expect(second.messages).toEqual(decodeAll(packet));
    first.decoder.clear();
    expect(budget.left).toBe(400 * 1024);
    expect(first.decoder.buffered).toBe(0);
    // A budget of nothing fills nothing.
    const none = new FillBudget(0);
    const third = recorder({ fillBudget: none });
    for (let i = 0; i < packet.length; i += 65_536)
      third.decoder.push(packet.subarray(i, i + 65_536));
    expect(third.messages).toEqual(decodeAll(packet));
    expect(() => new FillBudget(-1)).toThrow(RangeError);
  });

  it('reports a large packet of an unknown type once it has all arrived, and goes on', () => {
    const unknown = Buffer.from(encode(large, 'REQ'));
    unknown.writeUInt32BE(999, 4);
    const whole = Buffer.concat([unknown, encode(echo, 'REQ')]);
    const { decoder, messages } = recorder({ fillBudget: new FillBudget(1 << 20) });
    for (let i = 0; i < whole.length; i += 50_000) decoder.push(whole.subarray(i, i + 50_000));
    expect(errorCodes(messages)).toEqual(['UNKNOWN_TYPE']);
    expect(messages.at(-1)).toEqual({ kind: 'packet', magic: 'REQ', packet: echo });
  });

  it('keeps what follows a large body when the sink throws on it', () => {
    const seen: string[] = [];
    let fail = true;
    const decoder = new Decoder(
      {
        packet: (packet) => {
          seen.push(packet.type);
          if (packet.type === 'SUBMIT_JOB' && fail) {
            fail = false;
            throw new Error('sink failed');
          }
        },
        text: () => undefined,
        error: () => undefined,
      },
      { fillBudget: new FillBudget(1 << 20) },
    );
    const tail = encode(large, 'REQ');
    const whole = Buffer.concat([tail, encode(echo, 'REQ')]);
    decoder.push(whole.subarray(0, 100_000));
    expect(() => decoder.push(whole.subarray(100_000))).toThrow('sink failed');
    expect(seen).toEqual(['SUBMIT_JOB']);
    decoder.push(encode(echo, 'REQ'));
    expect(seen).toEqual(['SUBMIT_JOB', 'ECHO_REQ', 'ECHO_REQ']);
  });
});

describe('Decoder limits and errors', () => {
  it('rejects an oversized packet from its header alone, before any body arrives', () => {
    const { decoder, messages } = recorder({ maxPacketSize: 1024 });
    decoder.push(hex('00524551 00000007 00000401'));
    expect(errorCodes(messages)).toEqual(['TOO_LARGE']);
    expect(decoder.failed).toBe(true);
    decoder.push(encode(echo, 'REQ'));
    expect(messages).toHaveLength(1);
    expect(decoder.buffered).toBe(0);
  });

  it('accepts a packet of exactly the maximum size', () => {
    const data = Buffer.alloc(1024);
    const packet: Packet = { type: 'ECHO_REQ', data };
    const { messages } = (() => {
      const r = recorder({ maxPacketSize: 1024 });
      r.decoder.push(encode(packet, 'REQ'));
      return r;
    })();
    expect(messages).toEqual([{ kind: 'packet', magic: 'REQ', packet }]);
  });

  it('fails on a text line longer than the limit without waiting for its end', () => {
    const { decoder, messages } = recorder({ maxLineLength: 16 });
    decoder.push(Buffer.from('x'.repeat(10)));
    expect(messages).toEqual([]);
    decoder.push(Buffer.from('x'.repeat(10)));
    expect(errorCodes(messages)).toEqual(['LINE_TOO_LONG']);
    const error = messages[0]?.kind === 'error' ? messages[0].error : undefined;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.resyncable).toBe(false);
  });

  it('accepts a line of exactly the maximum length, newline included', () => {
    expect(decodeAll(Buffer.from('x'.repeat(15) + '\n'), { maxLineLength: 16 })).toEqual([
      { kind: 'text', line: 'x'.repeat(15) },
    ]);
    expect(
      errorCodes(decodeAll(Buffer.from('x'.repeat(16) + '\n'), { maxLineLength: 16 })),
    ).toEqual(['LINE_TOO_LONG']);
  });

  it('fails on bad magic and ignores everything after it', () => {
    const messages = decodeAll(Buffer.concat([hex('00 524551 00000010 00000000')]));
    expect(messages).toEqual([
      { kind: 'packet', magic: 'REQ', packet: { type: 'ECHO_REQ', data: Buffer.alloc(0) } },
    ]);
    const bad = decodeAll(Buffer.concat([hex('004a554e 00000010 00000000'), encode(echo, 'REQ')]));
    expect(errorCodes(bad)).toEqual(['BAD_MAGIC']);
    expect(bad).toHaveLength(1);
  });

  it('treats a non-zero first byte as bad magic when text lines are not accepted', () => {
    expect(errorCodes(decodeAll(Buffer.from('status\n'), { text: false }))).toEqual(['BAD_MAGIC']);
  });

  it('reports the response magic so a server can refuse it', () => {
    expect(decodeAll(encode(echo, 'RES'))).toEqual([
      { kind: 'packet', magic: 'RES', packet: echo },
    ]);
  });

  it('skips a packet of unknown type and carries on with the next one', () => {
    const messages = decodeAll(
      Buffer.concat([hex('00524551 0000002b 00000003 616263'), encode(echo, 'REQ')]),
    );
    expect(errorCodes(messages)).toEqual(['UNKNOWN_TYPE']);
    const error = messages[0]?.kind === 'error' ? messages[0].error : undefined;
    expect(error?.resyncable).toBe(true);
    expect(error?.packetType).toBe(43);
    expect(messages[1]).toEqual({ kind: 'packet', magic: 'REQ', packet: echo });
    expect(errorCodes(decodeAll(hex('00524551 00000000 00000000')))).toEqual(['UNKNOWN_TYPE']);
  });

  it('bounds argument parsing to the declared size (gearmand swallowed the next packet)', () => {
    // SUBMIT_JOB with size 4 and payload "func": no NUL separators inside the packet.
    const messages = decodeAll(
      Buffer.concat([hex('00524551 00000007 00000004 66756e63'), encode(echo, 'REQ')]),
    );
    expect(errorCodes(messages)).toEqual(['MALFORMED_PACKET']);
    expect(messages[1]).toEqual({ kind: 'packet', magic: 'REQ', packet: echo });
  });

  it('reads WORK_COMPLETE, WORK_DATA and WORK_WARNING with a bare handle as empty data (Perl)', () => {
    // Gearman::Worker sends `$v ? join("\0", $h, $v) : $h`: no NUL when the value is "" or 0.
    const bare = (code: number) =>
      Buffer.concat([
        hex(`00524551 ${code.toString(16).padStart(8, '0')} 00000005`),
        Buffer.from('H:x:1'),
      ]);
    const messages = decodeAll(Buffer.concat([bare(13), bare(28), bare(29), encode(echo, 'REQ')]));
    expect(messages.map((m) => (m.kind === 'packet' ? m.packet : m))).toEqual([
      { type: 'WORK_COMPLETE', handle: 'H:x:1', data: Buffer.alloc(0) },
      { type: 'WORK_DATA', handle: 'H:x:1', data: Buffer.alloc(0) },
      { type: 'WORK_WARNING', handle: 'H:x:1', data: Buffer.alloc(0) },
      echo,
    ]);
    // Every other packet without its separators is still malformed: WORK_EXCEPTION, a
    // JOB_ASSIGN with one argument, a SUBMIT_JOB without the unique.
    for (const bytes of [
      Buffer.concat([hex('00524551 00000019 00000005'), Buffer.from('H:x:1')]),
      Buffer.concat([hex('00524553 0000000b 00000006'), Buffer.from('H:x:1\0')]),
      Buffer.concat([hex('00524551 00000007 00000002'), Buffer.from('f\0')]),
    ]) {
      expect(errorCodes(decodeAll(bytes))).toEqual(['MALFORMED_PACKET']);
    }
  });

  it('rejects a text argument that is not valid UTF-8, and resynchronises', () => {
    const messages = decodeAll(
      Buffer.concat([
        hex('00524551 00000001 00000002 c328'),
        Buffer.from([0xff, 0x0a]),
        encode(echo, 'REQ'),
      ]),
    );
    expect(errorCodes(messages)).toEqual(['INVALID_TEXT', 'INVALID_TEXT']);
    expect(messages[2]).toEqual({ kind: 'packet', magic: 'REQ', packet: echo });
  });

  it('keeps binary data with invalid UTF-8 and NUL bytes intact', () => {
    const data = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x00]);
    const packet: Packet = { type: 'WORK_DATA', handle: 'H:x:1', data };
    expect(decodeAll(encode(packet, 'REQ'))).toEqual([{ kind: 'packet', magic: 'REQ', packet }]);
  });

  it('delivers the packets decoded before a sink exception, and the rest on the next push', () => {
    const seen: string[] = [];
    let throwOnce = true;
    const decoder = new Decoder({
      packet: (packet) => {
        seen.push(packet.type);
        if (throwOnce) {
          throwOnce = false;
          throw new Error('sink failure');
        }
      },
      text: () => undefined,
      error: () => undefined,
    });
    const two = Buffer.concat([encode(echo, 'REQ'), encode({ type: 'NOOP' }, 'RES')]);
    expect(() => decoder.push(two)).toThrow('sink failure');
    decoder.push(encode({ type: 'GRAB_JOB' }, 'REQ'));
    expect(seen).toEqual(['ECHO_REQ', 'NOOP', 'GRAB_JOB']);
  });
});
