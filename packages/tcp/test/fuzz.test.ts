import { createJobServer } from '@geartrain/core';
import { encodeRequest, PACKET_TYPES, type Packet } from '@geartrain/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GearmanServer } from '../src/index.js';
import { Wire } from './wire.js';

const b = (text: string) => Buffer.from(text);

/** Valid requests of every type with small random fields, then bytes flipped or cut. */
const packet = fc.constantFrom(...PACKET_TYPES).chain((spec) => {
  const fields: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(spec.name) };
  for (const arg of spec.args) {
    fields[arg] = fc.oneof(
      fc.constantFrom('f', 'H:t:1', 'H:t:2', '', 'exceptions', '1', '-'),
      fc.string({ maxLength: 6 }).map((s) => s.replaceAll('\0', '')),
    );
  }
  if (spec.data) fields['data'] = fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u));
  return fc.record(fields) as fc.Arbitrary<Packet>;
});

const stream = fc
  .tuple(
    fc.array(
      fc.oneof(
        packet.map((p) => encodeRequest(p)),
        fc.constantFrom(
          b('status\n'),
          b('workers\r\n'),
          b('show jobs\n'),
          b('cancel job H:t:1\n'),
          b('maxqueue f 1\n'),
        ),
      ),
      { maxLength: 12 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  )
  .map(([parts, flips]) => {
    const bytes = Buffer.concat(parts);
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return bytes;
  });

describe('garbage on one connection', () => {
  it('never crashes the server nor harms another connection (300 random streams)', async () => {
    const server = new GearmanServer(createJobServer({ handlePrefix: 'H:t' }));
    const errors: unknown[] = [];
    const log = server.log;
    log.error = (object) => errors.push(object);
    await fc.assert(
      fc.asyncProperty(stream, async (bytes) => {
        const noisy = new Wire(server);
        noisy.sendRaw(bytes);
        const bystander = new Wire(server);
        bystander.send({ type: 'ECHO_REQ', data: b('still fine') });
        expect(await bystander.packetsAfter(1)).toEqual([
          { type: 'ECHO_RES', data: b('still fine') },
        ]);
        noisy.end.destroy();
        bystander.end.destroy();
      }),
      { numRuns: 300 },
    );
    // No handler threw (a throw would have been logged as a failed connection).
    expect(errors).toEqual([]);
    await server.jobServer.close({ timeout: 0 });
    await server.close();
  });
});
