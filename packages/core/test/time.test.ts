import { TestScheduler } from 'rxjs/testing';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { JobFailedError, JobNotFoundError } from '../src/index.js';
import {
  grabbed,
  localOnly,
  recorder,
  server,
  submit,
  submitted,
  workerConnection,
  settled,
  virtualClock,
  SYNCHRONOUS,
} from './helpers.js';

/** Lets queued microtasks (promise callbacks, worker pumps) and the queue's answers run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await settled();
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('delayed jobs on virtual time', () => {
  it('become runnable at their time and wake a sleeping worker with nothing else happening', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const w = workerConnection(s, 'close-order');
    w.connection.preSleep();
    const c = s.connect();
    const { handle } = await submitted(c, {
      functionName: 'close-order',
      payload: 'order-7',
      background: true,
      runAt: 20 * 60_000,
    });
    expect(await s.status(handle)).toMatchObject({ known: true, running: false });
    expect((await s.functions())[0]?.queued.normal).toBe(1);
    await clock.runTo(20 * 60_000 - 1);
    expect(w.wakes).toBe(0);
    expect(await grabbed(w.connection)).toBeUndefined();
    w.connection.preSleep();
    await clock.runTo(20 * 60_000);
    expect(w.wakes).toBe(1);
    expect(await grabbed(w.connection)).toEqual({ handle, payload: 'order-7' });
  });

  it('never block other jobs of their function', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const c = s.connect();
    await submitted(c, {
      functionName: 'f',
      payload: 'later',
      background: true,
      runAt: 1000,
      priority: 'high',
    });
    await submitted(c, {
      functionName: 'f',
      payload: 'now-low',
      background: true,
      priority: 'low',
    });
    const w = workerConnection(s, 'f');
    expect((await grabbed(w.connection))?.payload).toBe('now-low');
    expect(await grabbed(w.connection)).toBeUndefined();
    await clock.runTo(1000);
    expect((await grabbed(w.connection))?.payload).toBe('later');
  });

  it('run in time order, re-arming the timer for an earlier job submitted later', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const c = s.connect();
    await submitted(c, { functionName: 'f', payload: 'c', background: true, runAt: 300 });
    await submitted(c, { functionName: 'f', payload: 'a', background: true, runAt: 100 });
    await submitted(c, { functionName: 'f', payload: 'b', background: true, runAt: 200 });
    await submitted(c, { functionName: 'f', payload: 'past', background: true, runAt: -5 });
    const w = workerConnection(s, 'f');
    const seen: [number, string][] = [];
    for (const t of [0, 100, 200, 300]) {
      await clock.runTo(t);
      for (let job = await grabbed(w.connection); job; job = await grabbed(w.connection)) {
        seen.push([t, job.payload]);
      }
    }
    expect(seen).toEqual([
      [0, 'past'],
      [100, 'a'],
      [200, 'b'],
      [300, 'c'],
    ]);
  });

  it('leave no timer behind when cancelled', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const c = s.connect();
    const { handle } = await submitted(c, { functionName: 'f', background: true, runAt: 100 });
    expect(await s.cancel(handle)).toBe(true);
    const w = workerConnection(s, 'f');
    w.connection.preSleep();
    await clock.runTo(100);
    expect(w.wakes).toBe(0);
    expect((await s.functions())[0]).toMatchObject({ total: 0, queued: { normal: 0 } });
  });

  localOnly(
    'marbles run synchronously inside TestScheduler.run, where a shared queue answers a turn later',
  )('emit their lifecycle on events$ (marbles)', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable }) => {
      const s = server({ scheduler });
      const c = s.connect();
      const w = s.connect({
        sink: { wake: () => void scheduler.schedule(() => w.workComplete(w.grab()!.handle, 'ok')) },
      });
      w.canDo('f');
      w.preSleep();
      const letters = { submitted: 's', delayed: 'd', started: 't', completed: 'c' } as const;
      const events = s.events$.pipe(map((e) => letters[e.type as keyof typeof letters] ?? '?'));
      expectObservable(events, '^ 2000ms !').toBe('(sd) 996ms (tc)');
      scheduler.schedule(() => submit(c, { functionName: 'f', background: true, runAt: 1000 }));
    });
  });
});

describe('timeouts (CAN_DO_TIMEOUT) on virtual time', () => {
  localOnly(SYNCHRONOUS)(
    'fail an overrunning job, tell its worker, and refuse the late result',
    async () => {
      const clock = virtualClock();
      const s = server({ scheduler: clock.scheduler });
      const c = s.connect();
      const r = recorder();
      const { handle } = submit(c, { functionName: 'f' }, r);
      const w = workerConnection(s);
      w.connection.canDo('f', { timeout: 500 });
      expect(w.connection.grab()?.timeout).toBe(500);
      clock.advanceTo(499);
      expect(r.updates).toEqual([]);
      clock.advanceTo(500);
      expect(r.updates).toEqual([{ type: 'fail', reason: 'TIMEOUT' }]);
      expect(w.revoked).toEqual([[handle, 'TIMEOUT']]);
      expect(() => w.connection.workComplete(handle, 'late')).toThrow(JobNotFoundError);
      expect(r.updates).toHaveLength(1);
      expect(await s.jobs()).toEqual([]);
    },
  );

  localOnly(SYNCHRONOUS)(
    'are per assignment: a finished job’s timer never touches the next job',
    () => {
      const clock = virtualClock();
      const s = server({ scheduler: clock.scheduler });
      const c = s.connect();
      const first = recorder();
      const second = recorder();
      submit(c, { functionName: 'f' }, first);
      submit(c, { functionName: 'f' }, second);
      const w = workerConnection(s);
      w.connection.canDo('f', { timeout: 500 });
      w.connection.workComplete(w.connection.grab()!.handle, 'one');
      clock.advanceTo(300);
      const next = w.connection.grab()!;
      clock.advanceTo(600);
      expect(second.updates).toEqual([]);
      w.connection.workComplete(next.handle, 'two');
      clock.advanceTo(2000);
      expect([first.types(), second.types()]).toEqual([['complete'], ['complete']]);
    },
  );

  it('abort an in-process handler’s signal', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    let aborted: unknown;
    s.worker().register(
      'slow',
      (job) =>
        new Promise((_resolve, reject) => {
          job.signal.addEventListener('abort', () => {
            aborted = job.signal.reason;
            reject(new Error('gave up'));
          });
        }),
      { timeout: 1000 },
    );
    const client = s.client();
    const job = await client.submit('slow', 'x');
    await settle();
    clock.advanceTo(1000);
    await expect(job.result).rejects.toMatchObject({ code: 'JOB_FAILED', reason: 'TIMEOUT' });
    expect(aborted).toBeInstanceOf(JobFailedError);
  });
});

describe('retries on virtual time', () => {
  it('hands a job held by a worker that stopped at its deadline to the next worker', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const attempts: number[] = [];
    const stuck = s.worker({ maxRunTime: 1000 }).register('f', (job) => {
      attempts.push(job.attempt);
      return new Promise(() => undefined); // never finishes
    });
    const client = s.client();
    const job = await client.submit('f', 'x');
    await settle();
    expect(attempts).toEqual([1]);
    // maxRunTime stops the worker at 1000; its running job gets the default 30 s to finish.
    clock.advanceTo(1000);
    await settle();
    expect(stuck.activeJobs).toBe(1);
    clock.advanceTo(30_999);
    await settle();
    expect(await s.status(job.handle)).toMatchObject({ known: true, running: true });
    clock.advanceTo(31_000);
    await settle();
    expect(await s.status(job.handle)).toMatchObject({ known: true, running: false });
    s.worker().register('f', (ctx) => {
      attempts.push(ctx.attempt);
      return 'done';
    });
    await settle();
    expect(attempts).toEqual([1, 2]);
    expect(await job.text()).toBe('done');
  });

  it('close() aborts jobs still running at the deadline', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    let signal: AbortSignal | undefined;
    s.worker().register('f', (job) => {
      signal = job.signal;
      return new Promise(() => undefined);
    });
    const job = await s.client().submit('f');
    await settle();
    const closed = s.close({ timeout: 5000 });
    clock.advanceTo(4999);
    expect(signal?.aborted).toBe(false);
    clock.advanceTo(5000);
    await closed;
    expect(signal?.aborted).toBe(true);
    await expect(job.result).rejects.toMatchObject({ reason: 'SHUTDOWN' });
  });
});
