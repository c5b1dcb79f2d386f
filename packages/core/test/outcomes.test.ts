import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  JobNotFoundError,
  MemoryJobStore,
  StoreError,
  WorkFail,
  type JobEvent,
} from '../src/index.js';
import {
  assigned,
  localOnly,
  NEEDS_STORE,
  server,
  settled,
  submitted,
  workerConnection,
  virtualClock,
} from './helpers.js';

describe('kept outcomes', () => {
  it('lists only the newest `limit` across functions, counts without reading, and skips discarded ones', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const c = s.connect();
    const w = s.connect();
    for (const fn of ['a', 'b', 'c']) w.canDo(fn);
    // Ends interleaved across the three functions' rings, one ms apart.
    const ended: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { handle } = await submitted(c, {
        functionName: ['a', 'b', 'c'][i % 3]!,
        payload: `${i}`,
        background: true,
      });
      await clock.runTo(i + 1);
      await assigned(w);
      w.workFail(handle);
      await settled();
      ended.push(handle);
    }
    expect(await s.discard(ended[10]!)).toBe(true); // a hole near the newest end of ring b
    const all = (await s.outcomes({ state: 'failed' })).map((o) => o.handle);
    expect(all).toEqual(ended.filter((_, i) => i !== 10));
    for (const limit of [0, 1, 2, 5, 11, 50]) {
      expect((await s.outcomes({ state: 'failed', limit })).map((o) => o.handle)).toEqual(
        limit === 0 ? [] : all.slice(-limit),
      );
    }
    expect((await s.outcomes({ functionName: 'a', limit: 2 })).map((o) => o.handle)).toEqual([
      ended[6],
      ended[9],
    ]);
    expect(await s.outcomeCount()).toBe(11);
    expect(await s.outcomeCount({ state: 'failed', functionName: 'b' })).toBe(3);
    expect(await s.outcomeCount({ state: 'completed' })).toBe(0);
    await expect(s.outcomes({ limit: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(s.outcomes({ limit: 1.5 })).rejects.toThrow(InvalidArgumentError);
  });

  it('keeps failed background jobs by default, with every attempt, and drops completed ones', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('pay', { attempts: 2, backoff: 100 });
    const w = workerConnection(s, 'pay');
    const c = s.connect();
    const failing = await submitted(c, {
      functionName: 'pay',
      payload: 'card-1',
      background: true,
      unique: 'o-1',
    });
    const fine = await submitted(c, { functionName: 'pay', payload: 'card-2', background: true });
    await clock.runTo(10);
    expect((await assigned(w.connection))!.handle).toBe(failing.handle);
    w.connection.workException(failing.handle, Buffer.from('declined'));
    await settled();
    expect((await assigned(w.connection))!.handle).toBe(fine.handle);
    w.connection.workComplete(fine.handle, Buffer.from('ok'));
    await settled();
    await clock.runTo(110);
    await assigned(w.connection);
    w.connection.workFail(failing.handle);
    await settled();
    expect((await s.status(failing.handle)).known).toBe(false);
    expect(await s.outcome(fine.handle)).toBeUndefined();
    const outcome = (await s.outcome(failing.handle))!;
    expect(outcome).toMatchObject({
      handle: failing.handle,
      functionName: 'pay',
      unique: 'o-1',
      state: 'failed',
      reason: 'WORK_FAIL',
      attempts: 2,
      queuedAt: 0,
      startedAt: 110,
      endedAt: 110,
    });
    expect(outcome.payload.toString()).toBe('card-1');
    expect(
      outcome.errors.map((e) => [e.attempt, e.reason, e.data?.toString() ?? null, e.time]),
    ).toEqual([
      [1, 'EXCEPTION', 'declined', 10],
      [2, 'WORK_FAIL', null, 110],
    ]);
    expect((await s.outcomes({ state: 'failed' })).map((o) => o.handle)).toEqual([failing.handle]);
    expect(await s.client().outcome(failing.handle)).toEqual(outcome);
  });

  it('keeps completed jobs when a function asks, up to a count and an age, with capped results', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler, outcomeDataLimit: 4 });
    await s.setJobPolicy('report', { keep: { completed: { count: 2, age: 1000 } } });
    const w = workerConnection(s, 'report');
    const c = s.connect();
    const handles: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { handle } = await submitted(c, {
        functionName: 'report',
        payload: `r${i}`,
        background: true,
      });
      handles.push(handle);
      await assigned(w.connection);
      w.connection.workComplete(handle, Buffer.from(`result-${i}`));
      await settled();
    }
    // The newest two are kept; results are capped at 4 bytes.
    expect((await s.outcomes({ functionName: 'report' })).map((o) => o.handle)).toEqual(
      handles.slice(1),
    );
    expect(await s.outcome(handles[2]!)).toMatchObject({ state: 'completed', truncated: true });
    expect((await s.outcome(handles[2]!))!.result!.toString()).toBe('resu');
    await clock.runTo(1000);
    expect(await s.outcome(handles[2]!)).toBeUndefined();
    expect(await s.outcomes()).toEqual([]);
  });

  it('finds by handle what was kept and trimmed before the first look-up, and after it', async () => {
    // The index by handle is made at the first look-up (decision 22): outcomes kept,
    // trimmed and discarded before it must be found, or not, as after it.
    const s = server();
    await s.setJobPolicy('a', { keep: { completed: { count: 3 } } });
    await s.setJobPolicy('b', { keep: { completed: { count: 2 } } });
    const w = s.connect();
    w.canDo('a');
    w.canDo('b');
    const c = s.connect();
    const run = async (fn: string, i: number) => {
      const { handle } = await submitted(c, {
        functionName: fn,
        payload: `${i}`,
        background: true,
      });
      await assigned(w);
      w.workComplete(handle, Buffer.from(`${fn}${i}`));
      await settled();
      return handle;
    };
    /** Runs `count` jobs of `fn` one after another, numbered from `from`. */
    const runs = async (fn: string, count: number, from = 0) => {
      const handles: string[] = [];
      for (let i = from; i < from + count; i++) handles.push(await run(fn, i));
      return handles;
    };
    const a = await runs('a', 5);
    const b = await runs('b', 4);
    const results = (handles: string[]) =>
      Promise.all(handles.map(async (h) => (await s.outcome(h))?.result?.toString()));
    expect(await s.discard(a[3]!)).toBe(true); // the first look-up by handle makes the index
    expect(await results(a)).toEqual([undefined, undefined, 'a2', undefined, 'a4']);
    expect(await results(b)).toEqual([undefined, undefined, 'b2', 'b3']);
    // Kept and trimmed once the index is there: it follows.
    const later = await runs('a', 3, 5);
    expect(await results([...a, ...later])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'a5',
      'a6',
      'a7',
    ]);
    expect(await s.outcomeCount()).toBe(5);
  });

  it('takes what to keep from the jobPolicies option as from setJobPolicy', async () => {
    const s = server({ jobPolicies: { report: { keep: { completed: { count: 1 } } } } });
    expect(await s.jobPolicy('report')).toEqual({ keep: { completed: { count: 1 } } });
    const w = workerConnection(s, 'report');
    const { handle } = await submitted(s.connect(), { functionName: 'report', background: true });
    await assigned(w.connection);
    w.connection.workComplete(handle, Buffer.from('done'));
    await settled();
    expect(await s.outcome(handle)).toMatchObject({ state: 'completed' });
  });

  it('refuses a retention that is not counts and ages, wherever it is given', async () => {
    const bad = (value: unknown) => value as never;
    const refused = [
      42,
      { complete: { count: 10 } },
      { completed: 10 },
      { completed: { count: -1 } },
      { completed: { count: 1.5 } },
      { completed: { count: '10' } },
      { failed: { age: -5 } },
      { failed: { age: Number.NaN } },
      { failed: { count: 10, days: 7 } },
    ];
    const s = server();
    for (const keep of refused) {
      await expect(s.setJobPolicy('f', { attempts: 3, keep: bad(keep) })).rejects.toThrow(
        InvalidArgumentError,
      );
      expect(() => server({ keep: bad(keep) })).toThrow(InvalidArgumentError);
      expect(() => server({ jobPolicies: { f: { keep: bad(keep) } } })).toThrow(
        InvalidArgumentError,
      );
    }
    // Nothing of a refused policy was applied, its attempts included.
    expect(await s.jobPolicy('f')).toBeNull();
    const keep = { completed: { count: Infinity, age: 60_000 }, failed: { count: 0 } };
    await s.setJobPolicy('f', { keep });
    expect(await s.jobPolicy('f')).toEqual({ keep });
  });

  it('does not keep cancelled jobs, nor foreground ones', async () => {
    const s = server();
    const w = workerConnection(s, 'f');
    const c = s.connect();
    const cancelled = await submitted(c, { functionName: 'f', background: true });
    await s.cancel(cancelled.handle);
    const fg = await submitted(
      c,
      { functionName: 'f' },
      { exceptions: false, update: () => undefined },
    );
    await assigned(w.connection);
    w.connection.workFail(fg.handle);
    await settled();
    expect(await s.outcomes()).toEqual([]);
  });
});

describe('dead letters', () => {
  it('runs a failed job again under the same handle with a fresh attempt count, or discards it', async () => {
    const s = server();
    await s.setJobPolicy('pay', { attempts: 2 });
    const events: JobEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    const w = workerConnection(s, 'pay');
    const { handle } = await submitted(s.connect(), {
      functionName: 'pay',
      payload: 'card',
      background: true,
      unique: 'o-7',
    });
    for (let i = 0; i < 2; i++) {
      await assigned(w.connection);
      w.connection.workFail(handle);
      await settled();
    }
    expect((await s.outcome(handle))?.attempts).toBe(2);
    expect(await s.retry(handle)).toBe(handle);
    expect(await s.outcome(handle)).toBeUndefined();
    expect((await s.status(handle)).known).toBe(true);
    const again = (await assigned(w.connection))!;
    expect([again.handle, again.attempt, again.unique, again.payload.toString()]).toEqual([
      handle,
      1,
      'o-7',
      'card',
    ]);
    w.connection.workFail(handle);
    await settled();
    await assigned(w.connection);
    w.connection.workFail(handle);
    await settled();
    expect(events.filter((e) => e.type === 'resubmitted')).toMatchObject([{ handle }]);
    expect(await s.discard(handle)).toBe(true);
    expect(await s.discard(handle)).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'discarded', handle });
    await expect(s.retry(handle)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('discards every failed job of a function', async () => {
    const s = server();
    const w = workerConnection(s, 'a', 'b');
    const c = s.connect();
    for (const fn of ['a', 'a', 'b']) {
      const { handle } = await submitted(c, { functionName: fn, background: true });
      await assigned(w.connection);
      w.connection.workFail(handle);
      await settled();
    }
    expect(await s.discardFailed('a')).toBe(2);
    expect((await s.outcomes()).map((o) => o.functionName)).toEqual(['b']);
  });
});

describe("an attempt's error", () => {
  it('is a string message, with the bytes, and the class name and stack of what a handler threw', async () => {
    class CardDeclined extends Error {}
    const s = server();
    await s.setJobPolicy('pay', { attempts: 4 });
    const thrown: unknown[] = [
      new CardDeclined('card declined: ünïcode'),
      new TypeError('not a card'),
      new WorkFail('card expired'),
      'a bare string',
    ];
    s.worker().register('pay', (job) => {
      throw thrown[job.attempt - 1];
    });
    const { handle } = await s.client().submit('pay', 'p', { background: true });
    for (let i = 0; i < 20 && (await s.outcome(handle)) === undefined; i++) {
      await Promise.resolve();
    }
    const errors = (await s.outcome(handle))!.errors;
    expect(errors.map((e) => [e.reason, e.message, e.name, e.data?.toString() ?? null])).toEqual([
      ['EXCEPTION', 'card declined: ünïcode', 'CardDeclined', 'card declined: ünïcode'],
      ['EXCEPTION', 'not a card', 'TypeError', 'not a card'],
      // WORK_FAIL carries no bytes; the WorkFail's message is kept all the same.
      ['WORK_FAIL', 'card expired', 'WorkFail', null],
      ['EXCEPTION', 'a bare string', null, 'a bare string'],
    ]);
    expect(errors[0]!.stack).toBe((thrown[0] as Error).stack);
    expect(errors[2]!.stack).toMatch(/^WorkFail: card expired\n\s+at /);
    expect(errors[3]!.stack).toBeNull();
  });

  it('over a connection is the WORK_EXCEPTION text, capped at the outcome data limit; a bare WORK_FAIL has none', async () => {
    const s = server({ outcomeDataLimit: 8, scheduler: virtualClock().scheduler });
    await s.setJobPolicy('f', { attempts: 2 });
    const w = workerConnection(s, 'f');
    const { handle } = await submitted(s.connect(), {
      functionName: 'f',
      payload: 'abc',
      background: true,
    });
    await assigned(w.connection);
    w.connection.workException(handle, Buffer.from('0123456789'));
    await settled();
    // Waiting for its second attempt, the live job shows the first one's error.
    expect(await s.job(handle)).toMatchObject({
      payloadSize: 3,
      errors: [{ attempt: 1, reason: 'EXCEPTION', message: '01234567' }],
    });
    await assigned(w.connection);
    w.connection.workFail(handle);
    await settled();
    expect((await s.outcome(handle))!.errors).toEqual([
      {
        attempt: 1,
        reason: 'EXCEPTION',
        message: '01234567',
        data: Buffer.from('01234567'),
        name: null,
        stack: null,
        time: 0,
      },
      {
        attempt: 2,
        reason: 'WORK_FAIL',
        message: null,
        data: null,
        name: null,
        stack: null,
        time: 0,
      },
    ]);
  });

  localOnly(NEEDS_STORE)(
    'read back from a store that kept only its bytes (written before messages) has their text',
    async () => {
      const store = new MemoryJobStore();
      store.keepOutcome({
        seq: 7,
        handle: 'H:t:7',
        functionName: 'pay',
        unique: '',
        priority: 'normal',
        state: 'failed',
        reason: 'EXCEPTION',
        data: Buffer.from('p'),
        truncated: false,
        attempts: 1,
        // As a store of the previous release gives it back: no message, name or stack.
        errors: [
          { attempt: 1, reason: 'EXCEPTION', data: Buffer.from('declined'), time: 5 },
        ] as never,
        queuedAt: 0,
        startedAt: 1,
        endedAt: 5,
        retry: null,
      });
      const s = server({ store, scheduler: virtualClock().scheduler });
      await s.ready;
      expect((await s.outcome('H:t:7'))!.errors).toEqual([
        {
          attempt: 1,
          reason: 'EXCEPTION',
          message: 'declined',
          data: Buffer.from('declined'),
          name: null,
          stack: null,
          time: 5,
        },
      ]);
    },
  );
});

describe('kept outcomes through the store', () => {
  localOnly(NEEDS_STORE)(
    'are back after a restart, trimmed and discarded ones forgotten, and a dead letter runs again',
    async () => {
      const store = new MemoryJobStore();
      const policies = { pay: { attempts: 1, keep: { failed: { count: 2 } } } };
      const first = server({ store, jobPolicies: policies });
      await first.setJobPolicy('pay', policies.pay);
      const w = workerConnection(first, 'pay');
      const c = first.connect();
      const handles: string[] = [];
      for (const payload of ['a', 'b', 'c', 'd']) {
        const { handle } = await submitted(c, { functionName: 'pay', payload, background: true });
        handles.push(handle);
        await assigned(w.connection);
        w.connection.workFail(handle);
        await settled();
      }
      expect(await first.discard(handles[3]!)).toBe(true);
      // Kept: the newest two of four, less the one discarded.
      expect(store.listOutcomes().map((o) => o.handle)).toEqual([handles[2]]);
      expect(store.list()).toEqual([]);

      const second = server({ store });
      await second.setJobPolicy('pay', policies.pay);
      expect(await second.outcome(handles[2]!)).toMatchObject({
        state: 'failed',
        reason: 'WORK_FAIL',
      });
      expect((await second.outcome(handles[2]!))!.payload.toString()).toBe('c');
      expect(await second.retry(handles[2]!)).toBe(handles[2]);
      expect(store.listOutcomes()).toEqual([]);
      expect(store.list().map((r) => r.id)).toEqual([handles[2]]);
      const v = workerConnection(second, 'pay');
      expect(await assigned(v.connection)).toMatchObject({ handle: handles[2], attempt: 1 });
    },
  );
});

describe('a dead letter run by hand while the store refuses', () => {
  localOnly(NEEDS_STORE)('is kept, and the run is refused with StoreError', async () => {
    let refuse = false;
    const records = new MemoryJobStore();
    const store = {
      add: (r: Parameters<MemoryJobStore['add']>[0]) => {
        if (refuse) throw new Error('disk full');
        records.add(r);
      },
      update: (r: Parameters<MemoryJobStore['update']>[0]) => records.update(r),
      remove: (r: Parameters<MemoryJobStore['remove']>[0]) => records.remove(r),
      list: () => records.list(),
      highestSeq: () => records.highestSeq(),
    };
    const s = server({ store });
    const w = workerConnection(s, 'pay');
    const { handle } = await submitted(s.connect(), {
      functionName: 'pay',
      payload: 'x',
      background: true,
    });
    await assigned(w.connection);
    w.connection.workFail(handle);
    await settled();
    refuse = true;
    await expect(s.retry(handle)).rejects.toBeInstanceOf(StoreError);
    expect(await s.outcome(handle)).toMatchObject({ state: 'failed' });
    refuse = false;
    expect(await s.retry(handle)).toBe(handle);
    expect((await s.status(handle)).known).toBe(true);
  });
});
