import { describe, expect, it } from 'vitest';
import { Decoder, encodeRequest, owned, type Packet } from '../src/index.js';

describe('owned: the one rule for keeping decoded bytes', () => {
  it('copies a small view of a large socket read, and keeps everything else as it is', () => {
    const read = Buffer.alloc(64 * 1024);
    const small = read.subarray(100, 116);
    const kept = owned(small);
    expect(kept).not.toBe(small);
    expect(kept.buffer).not.toBe(read.buffer);
    expect(kept.equals(small)).toBe(true);
    const most = read.subarray(0, 40 * 1024);
    expect(owned(most)).toBe(most); // over half of its read: no copy
    // A view of a small allocation is not worth a copy. (Node 20's pool slabs are 8 KiB,
    // such an allocation; Node 24's are 64 KiB, so a small pooled view is copied there.)
    const little = Buffer.alloc(8 * 1024).subarray(0, 21);
    expect(owned(little)).toBe(little);
  });

  it('applies to what the decoder delivers: a packet in one read, and one that spanned reads', () => {
    const packets: Packet[] = [];
    const decoder = new Decoder(
      { packet: (p) => packets.push(p), text: () => undefined, error: () => undefined },
      { text: false },
    );
    const small: Packet = { type: 'WORK_COMPLETE', handle: 'H:x:1', data: Buffer.from('ok') };
    const large: Packet = {
      type: 'WORK_COMPLETE',
      handle: 'H:x:2',
      data: Buffer.alloc(100_000, 7),
    };
    // One big read holding the small packet, then the large one split over two reads.
    const read = Buffer.alloc(64 * 1024);
    encodeRequest(small).copy(read);
    decoder.push(read.subarray(0, encodeRequest(small).length));
    const largeBytes = encodeRequest(large);
    decoder.push(largeBytes.subarray(0, 50_000));
    decoder.push(largeBytes.subarray(50_000));
    const [first, second] = packets as [Packet & { data: Buffer }, Packet & { data: Buffer }];
    expect(owned(first.data)).not.toBe(first.data); // a view of a 64 KiB read: copied
    expect(owned(second.data)).toBe(second.data); // the decoder's own copy: kept
  });
});
