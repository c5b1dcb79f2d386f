import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MemoryJobStore, type JobEvent } from '../src/index.js';
import {
  grab,
  grabbed,
  localOnly,
  NEEDS_STORE,
  server,
  settled,
  submit,
  submitted,
  virtualClock,
  workerConnection,
} from './helpers.js';

// Each case runs on the local queue and on a shared queue (vitest.config.ts, core-shared),
// whose pauses and limits are the queue's: applied when it hands jobs to a node.

function background(functionName: string, payload: string, extra: { runAt?: number } = {}) {
  return { functionName, payload, background: true, ...extra };
}

describe('pausing a function', () => {
  it('accepts and queues while paused, hands nothing out, lets running jobs finish', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const events: JobEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    const w = workerConnection(s, 'mail', 'other');
    const c = s.connect();
    const running = await submitted(c, background('mail', 'running'));
    expect((await grabbed(w.connection))?.handle).toBe(running.handle);

    await s.pause('mail');
    expect(await s.paused('mail')).toBe(true);
    const queued = await submitted(c, background('mail', 'queued'));
    const delayed = await submitted(c, background('mail', 'delayed', { runAt: 5000 }));
    await submitted(c, background('other', 'free'));
    // Another function's jobs go on.
    expect((await grabbed(w.connection))?.payload).toBe('free');
    expect(await grabbed(w.connection)).toBeUndefined();
    // The running job finishes as ever.
    w.connection.workComplete(running.handle, Buffer.from('ok'));
    await settled();
    expect((await s.status(running.handle)).known).toBe(false);
    // The delayed one becomes due, and waits with the queued one.
    await clock.runTo(6000);
    expect(await grabbed(w.connection)).toBeUndefined();
    expect((await s.functions()).find((f) => f.functionName === 'mail')?.queued.normal).toBe(2);

    // A worker that sleeps is not woken while paused, and woken by the resume.
    w.connection.preSleep();
    await settled();
    const wakes = w.wakes;
    await submitted(c, background('mail', 'third'));
    await settled();
    expect(w.wakes).toBe(wakes);
    await s.resume('mail');
    await settled();
    expect(w.wakes).toBe(wakes + 1);
    expect([(await grabbed(w.connection))?.handle, (await grabbed(w.connection))?.handle]).toEqual([
      queued.handle,
      delayed.handle,
    ]);
    expect((await grabbed(w.connection))?.payload).toBe('third');
    expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed')).toEqual([
      { type: 'paused', functionName: 'mail', time: 0 },
      { type: 'resumed', functionName: 'mail', time: 6000 },
    ]);
    expect(await s.controls()).toEqual([]);
  });

  it('a PRE_SLEEP with only paused work sleeps instead of being woken at once', async () => {
    const s = server();
    const w = workerConnection(s, 'f');
    await s.pause('f');
    await submitted(s.connect(), background('f', 'x'));
    w.connection.preSleep();
    await settled();
    expect(w.wakes).toBe(0);
    expect(w.connection.sleeping).toBe(true);
  });

  localOnly(NEEDS_STORE)('is kept by the store across a restart', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    await first.pause('f');
    submit(first.connect(), background('f', 'x'));
    await first.close();
    const second = server({ store });
    expect(await second.paused('f')).toBe(true);
    const w = workerConnection(second, 'f');
    expect(grab(w.connection)).toBeUndefined();
    await second.resume('f');
    const job = grab(w.connection)!;
    expect(job.payload).toBe('x');
    w.connection.workComplete(job.handle, Buffer.alloc(0));
    await second.close();
    expect(await server({ store }).paused('f')).toBe(false);
  });
});

describe('rate limits', () => {
  localOnly(
    "a shared queue counts a job against its function's rate when it hands the job to a node (a claim), not when a worker there starts it",
  )('lets max jobs start per window, exact to the ms, in order, across workers', () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    void s.setFunctionLimits('pay', { rate: { max: 2, duration: 1000 } });
    const a = workerConnection(s, 'pay');
    const b = workerConnection(s, 'pay');
    const c = s.connect();
    for (let i = 1; i <= 5; i++) submit(c, background('pay', `p${i}`));
    expect(grab(a.connection)?.payload).toBe('p1');
    clock.advanceTo(400);
    expect(grab(b.connection)?.payload).toBe('p2');
    // Two started in the window: nobody gets a third before 1000 (the first's start + 1 s).
    expect(grab(a.connection)).toBeUndefined();
    expect(grab(b.connection)).toBeUndefined();
    a.connection.preSleep();
    b.connection.preSleep();
    clock.advanceTo(999);
    expect(a.wakes + b.wakes).toBe(0);
    clock.advanceTo(1000);
    // One may start now, so one sleeper is woken.
    expect(a.wakes + b.wakes).toBe(1);
    const woken = a.wakes === 1 ? a : b;
    const other = woken === a ? b : a;
    expect(grab(woken.connection)?.payload).toBe('p3');
    expect(grab(other.connection)).toBeUndefined();
    other.connection.preSleep();
    clock.advanceTo(1399);
    expect(other.wakes).toBe(0);
    clock.advanceTo(1400);
    expect(grab(other.connection)?.payload).toBe('p4');
  });

  it('holds a function to its limit within 1% over 60 s of virtual time', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setFunctionLimits('call', { rate: { max: 10, duration: 1000 } });
    const starts: number[] = [];
    s.events$.subscribe((e) => {
      if (e.type === 'started') starts.push(e.time);
    });
    const c = s.connect();
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => submitted(c, background('call', String(i)))),
    );
    // Four eager workers: each completes at once and asks again when woken.
    const workers = [0, 1, 2, 3].map(() => workerConnection(s, 'call'));
    const drain = () => {
      for (const w of workers) {
        for (let job = w.connection.grab(); job !== undefined; job = w.connection.grab()) {
          w.connection.workComplete(job.handle, Buffer.alloc(0));
        }
        if (!w.connection.sleeping) w.connection.preSleep();
      }
    };
    for (let t = 0; t < 60_000; t += 10) {
      await clock.runTo(t);
      drain();
    }
    const inMinute = starts.filter((t) => t < 60_000).length;
    expect(Math.abs(inMinute - 600) / 600).toBeLessThanOrEqual(0.01);
    // And never more than 10 in any window of one second.
    for (let i = 10; i < starts.length; i++) {
      expect(starts[i]! - starts[i - 10]!).toBeGreaterThanOrEqual(1000);
    }
  });

  localOnly("a shared queue's backend reports no 'limited' event to its nodes yet")(
    'reports a wait once, with the time the limit lets the next job start',
    () => {
      const clock = virtualClock();
      const s = server({ scheduler: clock.scheduler });
      const events: JobEvent[] = [];
      s.events$.subscribe((e) => events.push(e));
      void s.setFunctionLimits('f', { rate: { max: 1, duration: 500 } });
      const w = workerConnection(s, 'f');
      const c = s.connect();
      for (let i = 0; i < 3; i++) submit(c, background('f', String(i)));
      expect(grab(w.connection)).toBeDefined();
      expect(grab(w.connection)).toBeUndefined();
      w.connection.preSleep();
      expect(events.filter((e) => e.type === 'limited')).toEqual([
        { type: 'limited', functionName: 'f', until: 500, time: 0 },
      ]);
    },
  );

  it('refuses limits that make no sense', async () => {
    const s = server();
    await expect(s.setFunctionLimits('f', { rate: { max: 0, duration: 1 } })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(s.setFunctionLimits('f', { rate: { max: 1, duration: 0 } })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(s.setFunctionLimits('f', { concurrency: 1.5 })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(await s.controls()).toEqual([]);
  });
});

describe('concurrency limits', () => {
  it('runs at most M at once across workers; an ending job lets the next start', async () => {
    const s = server();
    await s.setFunctionLimits('render', { concurrency: 2 });
    expect(await s.functionLimits('render')).toEqual({ rate: null, concurrency: 2 });
    const ws = [0, 1, 2].map(() => workerConnection(s, 'render'));
    const c = s.connect();
    for (let i = 1; i <= 4; i++) await submitted(c, background('render', `r${i}`));
    const first = (await grabbed(ws[0]!.connection))!;
    const second = (await grabbed(ws[1]!.connection))!;
    expect(await grabbed(ws[2]!.connection)).toBeUndefined();
    ws[2]!.connection.preSleep();
    await settled();
    expect(ws[2]!.wakes).toBe(0);
    ws[0]!.connection.workComplete(first.handle, Buffer.alloc(0));
    await settled();
    expect(ws[2]!.wakes).toBe(1);
    expect((await grabbed(ws[2]!.connection))?.payload).toBe('r3');
    expect(await grabbed(ws[0]!.connection)).toBeUndefined();
    ws[1]!.connection.workFail(second.handle);
    expect((await grabbed(ws[0]!.connection))?.payload).toBe('r4');
    await s.setFunctionLimits('render', null);
    expect(await s.controls()).toEqual([]);
  });

  localOnly(NEEDS_STORE)(
    'limits and pauses outlive a dropped function, and a restart',
    async () => {
      const store = new MemoryJobStore();
      const s = server({ store });
      await s.setFunctionLimits('f', { rate: { max: 5, duration: 60_000 }, concurrency: 3 });
      await s.pause('g');
      await s.createFunction('f');
      await s.dropFunction('f');
      expect(await s.controls()).toEqual([
        { functionName: 'f', paused: false, rate: { max: 5, duration: 60_000 }, concurrency: 3 },
        { functionName: 'g', paused: true, rate: null, concurrency: null },
      ]);
      await s.close();
      expect(await server({ store }).controls()).toEqual(await s.controls());
    },
  );
});
