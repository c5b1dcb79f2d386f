// npm run bench -- protocol
// Encode and decode of small packets (SUBMIT_JOB with a 16-byte payload) in packets/s,
// and of 1 MiB WORK_COMPLETE packets in MB/s (the decoder fed 64 KiB chunks).
import { Decoder, PacketWriter, encode } from '@geartrain/protocol';
import { rate, report } from './lib.mjs';

const MIB = 1024 * 1024;
const noopSink = {
  packet() {},
  text() {},
  error(e) {
    throw e;
  },
};

/** Splits a buffer into chunks of `size` bytes, as a socket would deliver it. */
function chunked(bytes, size) {
  const chunks = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

export function run() {
  const small = {
    type: 'SUBMIT_JOB',
    functionName: 'reverse',
    unique: 'order-1234',
    data: Buffer.from('0123456789abcdef'),
  };

  report(
    'protocol-encode-small',
    'packets_per_s',
    rate(() => encode(small, 'REQ'), 1),
    'packets/s',
  );

  const BATCH = 256;
  report(
    'protocol-encode-small-batched',
    'packets_per_s',
    rate(() => {
      const writer = new PacketWriter('REQ');
      for (let i = 0; i < BATCH; i++) writer.write(small);
      writer.flush();
    }, BATCH),
    'packets/s',
  );

  // 64 KiB socket reads of back-to-back small packets; packets straddle chunk borders.
  const one = encode(small, 'REQ');
  const COUNT = 20_000;
  const stream = Buffer.alloc(one.length * COUNT);
  for (let i = 0; i < COUNT; i++) one.copy(stream, i * one.length);
  const streamChunks = chunked(stream, 64 * 1024);
  report(
    'protocol-decode-small',
    'packets_per_s',
    rate(() => {
      const decoder = new Decoder(noopSink);
      for (const chunk of streamChunks) decoder.push(chunk);
    }, COUNT),
    'packets/s',
  );

  const big = { type: 'WORK_COMPLETE', handle: 'H:bench:1', data: Buffer.alloc(MIB, 0x61) };
  report(
    'protocol-encode-1mib',
    'mb_per_s',
    rate(() => encode(big, 'RES'), 1) * (MIB / 1e6),
    'MB/s',
  );

  const bigChunks = chunked(encode(big, 'RES'), 64 * 1024);
  report(
    'protocol-decode-1mib',
    'mb_per_s',
    rate(() => {
      const decoder = new Decoder(noopSink);
      for (const chunk of bigChunks) decoder.push(chunk);
    }, 1) *
      (MIB / 1e6),
    'MB/s',
  );
}
