// One settings record per function (issue 30): `settings` reads it with its defaults,
// `configure` changes it (partial changes merged, null for the default), the older methods
// are views of it, it is what the queue goes by, and the store keeps it.
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  MemoryJobStore,
  QueueFullError,
  StoreError,
  type FunctionControl,
  type JobEvent,
  type JobRecord,
  type JobStore,
  type SettingsChanges,
} from '../src/index.js';
import { grab, server, submit, virtualClock, workerConnection } from './helpers.js';

const bad = (value: unknown) => value as never;

function background(functionName: string, payload = '') {
  return { functionName, payload, background: true };
}

describe('a function settings record', () => {
  it('reads every setting with its default while nothing is set', async () => {
    const s = server({ keep: { completed: { count: 5 } }, maxQueue: 7 });
    expect(await s.settings('mail')).toEqual({
      functionName: 'mail',
      attempts: 1,
      backoff: null,
      keep: { completed: { count: 5 }, failed: { count: 1000, age: 7 * 24 * 3600_000 } },
      rate: null,
      concurrency: null,
      maxQueue: { high: 7, normal: 7, low: 7 },
      paused: false,
      configured: { functionName: 'mail' },
    });
    expect(await s.configured()).toEqual([]);
  });

  it('merges partial changes, puts a default back for null, and lists what is configured', async () => {
    const s = server();
    const first = await s.configure('pay', {
      attempts: 3,
      backoff: 250,
      rate: { max: 10, duration: 1000 },
    });
    expect(first).toMatchObject({
      attempts: 3,
      backoff: { type: 'fixed', delay: 250 },
      rate: { max: 10, duration: 1000 },
      concurrency: null,
      paused: false,
    });
    const second = await s.configure('pay', { concurrency: 2, backoff: null, paused: true });
    expect(second.configured).toEqual({
      functionName: 'pay',
      attempts: 3,
      rate: { max: 10, duration: 1000 },
      concurrency: 2,
      paused: true,
    });
    expect(await s.settings('pay')).toEqual(second);
    await s.configure('other', { maxQueue: { high: 1 } });
    expect((await s.configured()).map((c) => c.configured)).toEqual([
      { functionName: 'other', maxQueue: { high: 1, normal: 0, low: 0 } },
      second.configured,
    ]);
    // Every setting put back: the function has no record any more.
    await s.configure('pay', {
      attempts: null,
      rate: null,
      concurrency: null,
      paused: null,
    });
    expect((await s.configured()).map((c) => c.functionName)).toEqual(['other']);
    expect((await s.settings('pay')).configured).toEqual({ functionName: 'pay' });
  });

  it('keeps its own copy of what it was given', async () => {
    const s = server();
    const keep = { failed: { count: 3 } };
    await s.configure('f', { keep });
    keep.failed.count = 99;
    expect((await s.settings('f')).keep.failed).toEqual({ count: 3 });
  });

  it('refuses a bad setting with INVALID_ARGUMENT and applies none of the changes', async () => {
    const s = server();
    const refused: [SettingsChanges, RegExp][] = [
      [{ attempts: 0 }, /attempts must be a whole number ≥ 1/],
      [{ backoff: -1 }, /backoff delay/],
      [{ backoff: bad({ type: 'linear', delay: 1 }) }, /backoff.type/],
      [{ keep: { failed: { count: -1 } } }, /settings.keep.failed.count must be a whole number/],
      [{ rate: { max: 0, duration: 1 } }, /rate.max/],
      [{ concurrency: 1.5 }, /concurrency must be a whole number ≥ 1/],
      [{ maxQueue: -1 }, /settings.maxQueue.high must be a whole number ≥ 0/],
      [{ maxQueue: bad({ normall: 1 }) }, /did you mean 'normal'\?/],
      [{ paused: bad('yes') }, /settings.paused must be true or false/],
      [
        bad({ concurency: 2 }),
        /unknown option 'concurency' in settings \(did you mean 'concurrency'\?\)/,
      ],
      [bad(null), /settings must be an object/],
      [bad(undefined), /settings must be an object/],
      // A good setting beside a bad one is not applied either.
      [{ paused: true, concurrency: 0 }, /concurrency/],
    ];
    for (const [changes, message] of refused) {
      const error = await s.configure('f', changes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(changes)).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      expect((error as Error).message).toMatch(message);
    }
    await expect(s.configure(bad(42), { paused: true })).rejects.toThrow(InvalidArgumentError);
    await expect(s.settings('f\0')).rejects.toThrow(InvalidArgumentError);
    expect(await s.configured()).toEqual([]);
  });
});

describe('what the queue goes by', () => {
  it('a pause is in force before configure resolves, and a resume wakes the workers', async () => {
    const s = server();
    const events: JobEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    const w = workerConnection(s, 'f');
    const changed = s.configure('f', { paused: true });
    submit(s.connect(), background('f', 'x'));
    expect(grab(w.connection)).toBeUndefined();
    expect((await changed).paused).toBe(true);
    w.connection.preSleep();
    await s.configure('f', { paused: false });
    expect(w.wakes).toBe(1);
    expect(grab(w.connection)?.payload).toBe('x');
    expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed')).toEqual([
      { type: 'paused', functionName: 'f', time: expect.any(Number) as number },
      { type: 'resumed', functionName: 'f', time: expect.any(Number) as number },
    ]);
    // A change that sets nothing new is no event.
    await s.configure('f', { paused: false });
    expect(events.filter((e) => e.type === 'resumed')).toHaveLength(1);
  });

  it('attempts and backoff retry a failed job', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.configure('charge', { attempts: 2, backoff: 100 });
    const w = workerConnection(s, 'charge');
    const { handle } = submit(s.connect(), background('charge', 'x'));
    w.connection.workFail(grab(w.connection)!.handle);
    expect(grab(w.connection)).toBeUndefined();
    clock.advanceTo(100);
    expect(grab(w.connection)?.handle).toBe(handle);
    w.connection.workFail(handle);
    expect((await s.outcome(handle))?.attempts).toBe(2);
  });

  it('keep decides what is kept of ended jobs', async () => {
    const s = server();
    const w = workerConnection(s, 'f');
    const c = s.connect();
    const first = submit(c, background('f', 'a'));
    w.connection.workComplete(grab(w.connection)!.handle, Buffer.from('ok'));
    expect(await s.outcome(first.handle)).toBeUndefined();
    await s.configure('f', { keep: { completed: { count: 10 } } });
    const second = submit(c, background('f', 'b'));
    w.connection.workComplete(grab(w.connection)!.handle, Buffer.from('ok'));
    expect((await s.outcome(second.handle))?.state).toBe('completed');
  });

  it('maxQueue refuses submissions past it, for a function made after it was set', async () => {
    const s = server();
    await s.configure('f', { maxQueue: 1 });
    const c = s.connect();
    submit(c, background('f', 'a'));
    expect(() => submit(c, background('f', 'b'))).toThrow(QueueFullError);
    await s.configure('f', { maxQueue: null });
    expect(submit(c, background('f', 'c')).coalesced).toBe(false);
  });

  it('concurrency holds the jobs past it', async () => {
    const s = server();
    await s.configure('f', { concurrency: 1 });
    const [a, b] = [workerConnection(s, 'f'), workerConnection(s, 'f')];
    const c = s.connect();
    submit(c, background('f', '1'));
    submit(c, background('f', '2'));
    expect(grab(a.connection)?.payload).toBe('1');
    expect(grab(b.connection)).toBeUndefined();
  });
});

describe('the older methods are views of the record', () => {
  it('setJobPolicy, pause, setFunctionLimits and setMaxQueue change it; their getters read it', async () => {
    const s = server();
    await s.setJobPolicy('f', { attempts: 4, keep: { failed: { count: 2 } } });
    await s.pause('f');
    await s.setFunctionLimits('f', { concurrency: 3 });
    await s.createFunction('f');
    expect(await s.setMaxQueue('f', { low: 2 })).toBe(true);
    expect((await s.settings('f')).configured).toEqual({
      functionName: 'f',
      attempts: 4,
      keep: { failed: { count: 2 } },
      concurrency: 3,
      maxQueue: { high: 0, normal: 0, low: 2 },
      paused: true,
    });
    await s.configure('f', { backoff: 50, rate: { max: 1, duration: 10 } });
    expect(await s.jobPolicy('f')).toEqual({
      attempts: 4,
      backoff: { type: 'fixed', delay: 50 },
      keep: { failed: { count: 2 } },
    });
    expect(await s.functionLimits('f')).toEqual({ rate: { max: 1, duration: 10 }, concurrency: 3 });
    expect(await s.paused('f')).toBe(true);
    expect(await s.controls()).toEqual([
      { functionName: 'f', paused: true, rate: { max: 1, duration: 10 }, concurrency: 3 },
    ]);
    // setJobPolicy replaces the whole policy, and leaves the rest of the record.
    await s.setJobPolicy('f', { attempts: 2 });
    expect((await s.settings('f')).configured).toEqual({
      functionName: 'f',
      attempts: 2,
      rate: { max: 1, duration: 10 },
      concurrency: 3,
      maxQueue: { high: 0, normal: 0, low: 2 },
      paused: true,
    });
    // A function configured only by its queue limits is not paused or limited.
    await s.configure('g', { maxQueue: 3 });
    expect((await s.controls()).map((c) => c.functionName)).toEqual(['f']);
  });
});

describe('kept by the store', () => {
  it('a restart finds every setting, setJobPolicy included', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    await first.setJobPolicy('charge', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 10 },
    });
    await first.configure('charge', {
      paused: true,
      maxQueue: 5,
      keep: { completed: { count: 1 } },
    });
    await first.configure('gone', { concurrency: 1 });
    await first.configure('gone', { concurrency: null });
    const before = await first.configured();
    await first.close();
    const second = server({ store });
    await second.ready;
    expect(await second.configured()).toEqual(before);
    expect(await second.jobPolicy('charge')).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 10 },
      keep: { completed: { count: 1 } },
    });
    expect(store.listSettings().map((r) => r.functionName)).toEqual(['charge']);
  });

  it('the jobPolicies option replaces the policy part of the stored record, and is stored', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    await first.configure('f', { attempts: 5, keep: { failed: { count: 1 } }, paused: true });
    await first.close();
    const second = server({ store, jobPolicies: { f: { attempts: 2 }, g: { attempts: 3 } } });
    await second.ready;
    expect((await second.settings('f')).configured).toEqual({
      functionName: 'f',
      attempts: 2,
      paused: true,
    });
    await second.close();
    const third = server({ store });
    expect((await third.configured()).map((c) => c.configured)).toEqual([
      { functionName: 'f', attempts: 2, paused: true },
      { functionName: 'g', attempts: 3 },
    ]);
  });

  it('a replayed job that was running counts its attempts against the stored policy', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    await first.setJobPolicy('f', { attempts: 1 });
    const w = workerConnection(first, 'f');
    const { handle } = submit(first.connect(), background('f', 'x'));
    grab(w.connection);
    // The process ends with the job running: its record says one attempt was made.
    const second = server({ store });
    await second.ready;
    expect((await second.outcome(handle))?.reason).toBe('RETRIES_EXHAUSTED');
  });

  it('a store of the version before records keeps pauses and limits through saveControl', async () => {
    // A store written for that version: jobs, and controls, no settings records.
    const jobs = new Map<number, JobRecord>();
    const controls = new Map<string, FunctionControl>();
    const store: JobStore = {
      add: (r) => void jobs.set(r.seq, r),
      update: (r) => void jobs.set(r.seq, r),
      remove: (r) => void jobs.delete(r.seq),
      list: () => [...jobs.values()],
      highestSeq: () => Math.max(0, ...jobs.keys()),
      saveControl: (c) => {
        if (!c.paused && c.rate === null && c.concurrency === null) controls.delete(c.functionName);
        else controls.set(c.functionName, c);
      },
      listControls: async () => Promise.resolve([...controls.values()]),
    };
    controls.set('old', { functionName: 'old', paused: true, rate: null, concurrency: 2 });
    const s = server({ store });
    await s.ready;
    expect((await s.settings('old')).configured).toEqual({
      functionName: 'old',
      concurrency: 2,
      paused: true,
    });
    await s.configure('new', { rate: { max: 1, duration: 5 }, attempts: 2 });
    await s.configure('old', { paused: false });
    expect([...controls.values()]).toEqual([
      { functionName: 'old', paused: false, rate: null, concurrency: 2 },
      { functionName: 'new', paused: false, rate: { max: 1, duration: 5 }, concurrency: null },
    ]);
  });

  it('a store that refuses the record rejects configure with a StoreError', async () => {
    const store = new MemoryJobStore();
    store.saveSettings = () => {
      throw new Error('disk full');
    };
    const s = server({ store });
    const error = await s.configure('f', { attempts: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe('the job store could not keep the settings of f');
  });
});
