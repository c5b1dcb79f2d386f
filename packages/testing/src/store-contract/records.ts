import { DEFAULT_MAX_PACKET_SIZE } from '@geartrain/protocol';
import assert from 'node:assert/strict';
import { record, list, same, type It, type WithStore } from './support.js';

// The store as a keeper of records: what it lists after adds, updates and removals, seqs,
// binary payloads, and a reopened store (part of describeJobStoreContract).

export function recordCases(it: It, withStore: WithStore): void {
  it(
    'starts empty',
    withStore(async (store) => {
      assert.deepEqual(await list(store), []);
      assert.equal(await store.highestSeq(), 0);
    }),
  );

  it(
    'lists what was added in seq order, every field kept',
    withStore(async (store) => {
      const records = [
        record({ functionName: 'resize', unique: 'u-1', priority: 'high' }),
        record({ priority: 'low', runAt: 1_700_000_000_000 }),
        record({ reducer: 'sum', payload: Buffer.from([0, 1, 2, 0, 255]) }),
        record({ attempts: 2, payload: Buffer.alloc(0) }),
        record({
          retry: { attempts: 4, backoff: { type: 'exponential', delay: 100, max: 900 } },
        }),
      ];
      for (const r of records) await store.add(r);
      const listed = await list(store);
      assert.equal(listed.length, records.length);
      listed.forEach((r, i) => same(r, records[i]!));
    }),
  );

  it(
    'keeps records with an empty unique id apart',
    withStore(async (store) => {
      const a = record({ payload: Buffer.from('one') });
      const b = record({ payload: Buffer.from('two') });
      await store.add(a);
      await store.add(b);
      assert.deepEqual(
        (await list(store)).map((r) => r.id),
        [a.id, b.id],
      );
    }),
  );

  it(
    'removes exactly the record given, by seq; removing it again changes nothing',
    withStore(async (store) => {
      const [a, b, c] = [record(), record({ unique: 'same' }), record({ unique: 'same' })];
      for (const r of [a, b, c]) await store.add(r);
      await store.remove({ ...b });
      assert.deepEqual(
        (await list(store)).map((r) => r.id),
        [a.id, c.id],
      );
      await store.remove(b);
      assert.deepEqual(
        (await list(store)).map((r) => r.id),
        [a.id, c.id],
      );
    }),
  );

  it(
    'removes a record given back by list (as after a restart)',
    withStore(async (store) => {
      const a = record();
      await store.add(a);
      const [listed] = await list(store);
      await store.remove(listed!);
      assert.deepEqual(await list(store), []);
    }),
  );

  it(
    'keeps the attempts and time an update gives; an update of a removed record adds nothing',
    withStore(async (store) => {
      const a = record({ runAt: 5 });
      const b = record();
      await store.add(a);
      await store.add(b);
      await store.update({ ...a, attempts: 3, runAt: 99 });
      await store.remove(b);
      await store.update({ ...b, attempts: 1 });
      const listed = await list(store);
      assert.equal(listed.length, 1);
      same(listed[0]!, { ...a, attempts: 3, runAt: 99 });
    }),
  );

  it(
    'remembers the highest seq ever added, also once its record is removed',
    withStore(async (store, restart) => {
      const a = record();
      const b = record();
      await store.add(a);
      await store.add(b);
      await store.remove(b);
      await store.remove(a);
      assert.equal(await store.highestSeq(), b.seq);
      const again = await restart();
      assert.equal(await again.highestSeq(), b.seq);
    }),
  );

  it(
    'keeps a binary payload with NUL bytes, up to the largest packet, byte for byte',
    withStore(async (store, restart) => {
      // The largest payload a SUBMIT_JOB can carry: the packet less its header and arguments.
      const payload = Buffer.alloc(DEFAULT_MAX_PACKET_SIZE - 12 - 64);
      for (let i = 0; i < payload.length; i += 4096) payload[i] = (i >> 12) & 0xff;
      const r = record({ payload });
      await store.add(r);
      const small = record({ payload: Buffer.from([0, 0, 0x67, 0, 0]) });
      await store.add(small);
      const again = await restart();
      const [big, nul] = await list(again);
      same(big!, r);
      same(nul!, small);
    }),
  );
}
