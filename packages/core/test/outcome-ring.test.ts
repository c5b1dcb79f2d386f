import { describe, expect, it, vi } from 'vitest';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { StampClock } from '../src/internal/stamps.js';
import { MemoryJobStore } from '../src/index.js';
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

/** Runs `count` background jobs of `fn` to completion, each with `result(i)`; returns handles. */
async function complete(
  s: ReturnType<typeof server>,
  fn: string,
  count: number,
  result: (i: number) => Buffer,
): Promise<string[]> {
  const w = workerConnection(s, fn);
  const c = s.connect();
  const handles: string[] = [];
  for (let i = 0; i < count; i++) {
    const { handle } = await submitted(c, { functionName: fn, payload: `p${i}`, background: true });
    handles.push(handle);
    expect((await assigned(w.connection))!.handle).toBe(handle);
    w.connection.workComplete(handle, result(i));
    await settled();
  }
  w.connection.close();
  await settled();
  c.close();
  return handles;
}

describe('kept outcomes in their ring', () => {
  it('keep results of every size byte for byte: in the record, as strings, as Buffers, capped', async () => {
    const s = server({ outcomeDataLimit: 5000 });
    await s.setJobPolicy('sizes', { keep: { completed: { count: 100 } } });
    const sizes = [0, 1, 24, 25, 64, 65, 4999, 5000, 5001, 70_000];
    const bytes = (n: number) =>
      Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + n) & 255));
    const handles = await complete(s, 'sizes', sizes.length, (i) => bytes(sizes[i]!));
    for (const [i, handle] of handles.entries()) {
      const size = sizes[i]!;
      const outcome = (await s.outcome(handle))!;
      expect(outcome.truncated).toBe(size > 5000);
      expect(outcome.result!.equals(bytes(size).subarray(0, 5000))).toBe(true);
    }
  });

  it('copy a result the worker may reuse afterwards', async () => {
    const s = server();
    await s.setJobPolicy('reuse', { keep: { completed: { count: 10 } } });
    const shared = Buffer.from('first');
    const [handle] = await complete(s, 'reuse', 1, () => shared);
    shared.write('XXXXX');
    expect((await s.outcome(handle!))!.result!.toString()).toBe('first');
  });

  it('keep exactly the newest N through growth and wrap-around, by handle and in order', async () => {
    const s = server();
    await s.setJobPolicy('many', { keep: { completed: { count: 100 } } });
    const handles = await complete(s, 'many', 1000, (i) => Buffer.from(`r${i}`));
    const kept = await s.outcomes({ functionName: 'many' });
    expect(kept.map((o) => o.handle)).toEqual(handles.slice(900));
    expect(kept.map((o) => o.result!.toString())).toEqual(
      handles.slice(900).map((_, i) => `r${900 + i}`),
    );
    expect(await s.outcome(handles[899]!)).toBeUndefined();
    expect((await s.outcome(handles[900]!))!.result!.toString()).toBe('r900');
  });

  it('leave holes where outcomes are discarded; the count is of outcomes, not of slots', async () => {
    const s = server();
    await s.setJobPolicy('holes', { keep: { completed: { count: 5 } } });
    const first = await complete(s, 'holes', 5, (i) => Buffer.from(`a${i}`));
    // A hole at the front, one in the middle and one at the back.
    for (const i of [0, 2, 4]) expect(await s.discard(first[i]!)).toBe(true);
    expect(await s.discard(first[2]!)).toBe(false);
    expect((await s.outcomes()).map((o) => o.handle)).toEqual([first[1], first[3]]);
    const second = await complete(s, 'holes', 4, (i) => Buffer.from(`b${i}`));
    // Five outcomes again: the oldest one left (first[1]) made room for the fourth.
    expect((await s.outcomes()).map((o) => o.handle)).toEqual([first[3], ...second]);
    for (const handle of [first[3]!, ...second]) expect(await s.discard(handle)).toBe(true);
    expect(await s.outcomes()).toEqual([]);
    // An emptied ring takes new outcomes as before.
    const third = await complete(s, 'holes', 7, (i) => Buffer.from(`c${i}`));
    expect((await s.outcomes()).map((o) => o.result!.toString())).toEqual(
      third.slice(2).map((_, i) => `c${i + 2}`),
    );
  });

  localOnly(NEEDS_STORE)(
    'keep a handle made here as a number, and one replayed from another prefix as it was',
    async () => {
      const store = new MemoryJobStore();
      const before = server({ store, handlePrefix: 'H:before' });
      const replayed = await submitted(before.connect(), {
        functionName: 'f',
        payload: 'a',
        background: true,
      });
      await before.close();

      const s = server({ store });
      await s.setJobPolicy('f', { keep: { completed: { count: 10 } } });
      const w = workerConnection(s, 'f');
      const own = await submitted(s.connect(), {
        functionName: 'f',
        payload: 'b',
        background: true,
      });
      expect(replayed.handle).toMatch(/^H:before:/);
      expect(own.handle).toMatch(/^H:t:/);
      for (const { handle } of [replayed, own]) {
        expect((await assigned(w.connection))!.handle).toBe(handle);
        w.connection.workComplete(handle, Buffer.from(handle));
        await settled();
      }
      for (const { handle } of [replayed, own]) {
        expect(await s.outcome(handle)).toMatchObject({ handle, state: 'completed' });
        expect((await s.outcome(handle))!.result!.toString()).toBe(handle);
      }
      expect((await s.outcomes({ functionName: 'f' })).map((o) => o.handle)).toEqual([
        replayed.handle,
        own.handle,
      ]);
      // Same seq, other prefix: not the same job.
      const seq = own.handle.slice(own.handle.lastIndexOf(':'));
      expect(await s.outcome(`H:other${seq}`)).toBeUndefined();
      await s.close();
    },
  );

  it('keep one outcome when the count is 1, over and over', async () => {
    const s = server();
    await s.setJobPolicy('one', { keep: { completed: { count: 1 } } });
    const handles = await complete(s, 'one', 200, (i) => Buffer.from(`r${i}`));
    expect((await s.outcomes()).map((o) => o.handle)).toEqual([handles[199]]);
  });

  it('trim by age from the front when read, and keep those that are younger', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('aged', { keep: { completed: { age: 100 } } });
    const early = await complete(s, 'aged', 3, () => Buffer.from('e'));
    await clock.runTo(50);
    const late = await complete(s, 'aged', 2, () => Buffer.from('l'));
    await clock.runTo(100);
    expect(await s.outcome(early[0]!)).toBeUndefined();
    expect((await s.outcomes()).map((o) => o.handle)).toEqual(late);
    await clock.runTo(150);
    expect(await s.outcomes()).toEqual([]);
    const fresh = await complete(s, 'aged', 1, () => Buffer.from('n'));
    expect(await Promise.all(fresh.map(async (h) => (await s.outcome(h))?.endedAt))).toEqual([150]);
  });
});

/** A scheduler whose clock reads 1, 2, 3, … (each read is one tick later). */
function countingScheduler(): SchedulerLike & { reads: number } {
  const scheduler = Object.create(asyncScheduler) as SchedulerLike & { reads: number };
  scheduler.reads = 0;
  scheduler.now = () => ++scheduler.reads;
  return scheduler;
}

describe('the clock of outcome times', () => {
  it('shares one reading within a synchronous stretch, until a fresh read, an invalidation or the next microtask', async () => {
    const scheduler = countingScheduler();
    const stamps = new StampClock(scheduler, true);
    expect([stamps.now(), stamps.now(), stamps.now()]).toEqual([1, 1, 1]);
    expect(stamps.read()).toBe(2);
    expect(stamps.now()).toBe(2);
    stamps.invalidate();
    expect([stamps.now(), stamps.now()]).toEqual([3, 3]);
    await Promise.resolve();
    expect(stamps.now()).toBe(4);
    expect(scheduler.reads).toBe(4);
  });

  it('reads a virtual clock every time', () => {
    const scheduler = countingScheduler();
    const stamps = new StampClock(scheduler, false);
    expect([stamps.now(), stamps.now(), stamps.read(), stamps.now()]).toEqual([1, 2, 3, 4]);
  });

  localOnly(
    "it counts the local queue's clock readings per job: a shared queue's backend stamps outcomes with readings of its own",
  )('reads the clock once per run end when the run is timed and its outcome kept', async () => {
    const s = server();
    await s.setJobPolicy('timed', { keep: { completed: { count: 100 } } });
    s.measureTimings();
    const client = s.client();
    const jobs = 50;
    await Promise.all(
      Array.from({ length: jobs }, () => client.submit('timed', 'x', { background: true })),
    );
    let done!: () => void;
    const drained = new Promise<void>((resolve) => (done = resolve));
    let ran = 0;
    const reads = vi.spyOn(Date, 'now');
    s.worker().register('timed', (job) => {
      if (++ran === jobs) queueMicrotask(done);
      return job.payload;
    });
    await drained;
    const count = reads.mock.calls.length;
    reads.mockRestore();
    // The end of each run is read fresh once, for its outcome and its run time alike (a
    // read for each would be twice as many); a few more start the worker's stretches.
    expect(count).toBeGreaterThanOrEqual(jobs);
    expect(count).toBeLessThanOrEqual(jobs + 10);
    const run = s.timings().find((t) => t.functionName === 'timed')!.run;
    expect(run.count).toBe(jobs);
    const kept = await s.outcomes({ functionName: 'timed' });
    expect(kept).toHaveLength(jobs);
    const outcomeRuns = kept.reduce((sum, o) => sum + (o.endedAt - o.startedAt), 0);
    expect(run.sum * 1000).toBeCloseTo(outcomeRuns, 6);
    await s.close();
  });

  it('gives a synchronous handler its own run time on the real clock', async () => {
    const s = server();
    await s.setJobPolicy('busy', { keep: { completed: { count: 10 } } });
    const ran: number[] = [];
    let bothRan!: () => void;
    // No subscriber to events$: an event would drop the shared reading by itself.
    const ended = new Promise<void>((resolve) => (bothRan = resolve));
    s.worker().register('busy', (job) => {
      // Blocks its thread for 20 ms (a synchronous handler), between two readings.
      ran.push(Date.now());
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      ran.push(Date.now());
      // The job completes as this returns; the test goes on at a later microtask.
      if (ran.length === 4) bothRan();
      return job.payload;
    });
    const client = s.client();
    const handles = await Promise.all(
      [1, 2].map(async () => (await client.submit('busy', 'x', { background: true })).handle),
    );
    await ended;
    const outcomes = (await Promise.all(handles.map((h) => s.outcome(h)))).map((o) => o!);
    for (const o of outcomes) {
      expect(o.endedAt - o.startedAt).toBeGreaterThanOrEqual(20);
      expect(o.startedAt).toBeGreaterThanOrEqual(o.queuedAt);
    }
    // The second job started when the first ended: the same reading, not an earlier one.
    expect(outcomes[1]!.startedAt).toBeGreaterThanOrEqual(outcomes[0]!.endedAt);
    expect(outcomes[0]!.endedAt).toBeGreaterThanOrEqual(ran[1]!);
    await s.close();
  });
});
