import { createJobServer, type JobRecord, type JobStore } from '@geartrain/core';
import assert from 'node:assert/strict';

/** The test functions of the runner in use (vitest, jest, node:test …). */
export interface SuiteApi {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void> | void) => unknown;
}

export interface StoreContractOptions {
  /**
   * The same storage opened again (a restart), for durable stores; default: the same
   * store object. Records added before must be listed by the reopened store.
   */
  reopen?: (store: JobStore) => JobStore | Promise<JobStore>;
  /** The runner's `describe`/`it` (default: the globals jest and vitest's `globals` provide). */
  api?: SuiteApi;
}

function globalApi(): SuiteApi {
  const g = globalThis as unknown as Partial<SuiteApi>;
  if (typeof g.describe !== 'function' || typeof g.it !== 'function') {
    throw new Error(
      'describeJobStoreContract: pass { api: { describe, it } } (no global describe/it)',
    );
  }
  return g as SuiteApi;
}

let nextId = 0;
function record(fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id: `contract:${++nextId}`,
    functionName: 'f',
    unique: '',
    priority: 'normal',
    payload: Buffer.from('payload'),
    runAt: 0,
    reducer: '',
    ...fields,
  };
}

async function list(store: JobStore): Promise<JobRecord[]> {
  return [...(await store.list())];
}

function same(actual: JobRecord, expected: JobRecord): void {
  assert.equal(actual.id, expected.id);
  assert.equal(actual.functionName, expected.functionName);
  assert.equal(actual.unique, expected.unique);
  assert.equal(actual.priority, expected.priority);
  assert.equal(actual.runAt, expected.runAt);
  assert.equal(actual.reducer, expected.reducer);
  assert.ok(Buffer.from(actual.payload).equals(expected.payload), `payload of ${expected.id}`);
}

/**
 * The behaviour every {@link JobStore} must have, as a test suite: run it unchanged against
 * the in-memory store and against every durable store. `factory` returns an empty store.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * describeJobStoreContract('MemoryJobStore', () => new MemoryJobStore(), { api: { describe, it } });
 * ```
 */
export function describeJobStoreContract(
  name: string,
  factory: () => JobStore | Promise<JobStore>,
  options: StoreContractOptions = {},
): void {
  const { describe, it } = options.api ?? globalApi();
  const reopen = options.reopen ?? ((store: JobStore) => store);

  const withStore = (body: (store: JobStore) => Promise<void>) => async () => {
    const store = await factory();
    try {
      await body(store);
    } finally {
      await store.close?.();
    }
  };

  describe(`JobStore contract: ${name}`, () => {
    it(
      'starts empty',
      withStore(async (store) => {
        assert.deepEqual(await list(store), []);
      }),
    );

    it(
      'lists what was added, oldest first, every field kept',
      withStore(async (store) => {
        const records = [
          record({ functionName: 'resize', unique: 'u-1', priority: 'high' }),
          record({ priority: 'low', runAt: 1_700_000_000_000 }),
          record({ reducer: 'sum', payload: Buffer.from([0, 1, 2, 0, 255]) }),
        ];
        for (const r of records) await store.add(r);
        const listed = await list(store);
        assert.equal(listed.length, 3);
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
      'removes exactly the record given; removing it again changes nothing',
      withStore(async (store) => {
        const [a, b, c] = [record(), record({ unique: 'same' }), record({ unique: 'same' })];
        for (const r of [a, b, c]) await store.add(r);
        await store.remove(b);
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
      'keeps a large binary payload byte for byte',
      withStore(async (store) => {
        const payload = Buffer.alloc(1 << 20);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
        const r = record({ payload });
        await store.add(r);
        same((await list(store))[0]!, r);
      }),
    );

    it(
      'still lists its records when opened again',
      withStore(async (store) => {
        const r = record({ unique: 'durable' });
        await store.add(r);
        const again = await reopen(store);
        same((await list(again))[0]!, r);
      }),
    );

    it(
      'lets a restarted server run the background jobs a previous one accepted',
      withStore(async (store) => {
        const first = createJobServer({ store });
        await first.ready;
        const client = first.client();
        const job = await client.submit('email', 'to:a@example.com', {
          background: true,
          unique: 'mail-1',
        });
        assert.ok(job.handle.length > 0);
        const done = first.client().submit('email', 'foreground', {});
        void done.catch(() => undefined);
        // The process dies: nothing is closed, nothing removed.
        const second = createJobServer({ store: await reopen(store) });
        await second.ready;
        const seen: string[] = [];
        second.worker().register('email', (j) => void seen.push(j.text()));
        for (let i = 0; i < 100 && seen.length === 0; i++)
          await new Promise((r) => setImmediate(r));
        assert.deepEqual(seen, ['to:a@example.com']);
        for (let i = 0; i < 100 && (await list(store)).length > 0; i++) {
          await new Promise((r) => setImmediate(r));
        }
        assert.deepEqual(await list(store), [], 'the finished job is removed from the store');
      }),
    );
  });
}
