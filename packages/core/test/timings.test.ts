import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/index.js';
import {
  CLAIMED_RUNNING,
  grabbed,
  localOnly,
  server,
  settled,
  submitted,
  virtualClock,
  workerConnection,
} from './helpers.js';

function background(functionName: string, payload: string, extra: { runAt?: number } = {}) {
  return { functionName, payload, background: true, ...extra };
}

/** The bucket index an observation of `seconds` falls in. */
function bucketOf(bounds: readonly number[], seconds: number): number {
  const i = bounds.findIndex((b) => seconds <= b);
  return i < 0 ? bounds.length : i;
}

describe('wait and run timings', () => {
  it('measures nothing until asked', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const w = workerConnection(s, 'mail');
    const job = await submitted(s.connect(), background('mail', 'a'));
    await grabbed(w.connection);
    w.connection.workComplete(job.handle, Buffer.alloc(0));
    await settled();
    expect(s.timings()).toEqual([]);
  });

  localOnly(
    'a job a shared queue claimed for this node does not carry when it was queued, so its wait is not measured',
  )('measures the wait from submission or the end of a delay, and the run to its end', async () => {
    const clock = virtualClock();
    await clock.runTo(1000);
    const s = server({ scheduler: clock.scheduler });
    s.measureTimings();
    const w = workerConnection(s, 'mail');
    const c = s.connect();
    const now = await submitted(c, background('mail', 'now'));
    await clock.runTo(1250); // waited 250 ms
    expect((await grabbed(w.connection))?.handle).toBe(now.handle);
    await clock.runTo(4250); // ran 3 s
    w.connection.workComplete(now.handle, Buffer.alloc(0));
    await settled();

    const later = await submitted(c, background('mail', 'later', { runAt: 10_000 }));
    await clock.runTo(10_004); // due at 10 000, started 4 ms after
    expect((await grabbed(w.connection))?.handle).toBe(later.handle);
    await clock.runTo(10_024);
    w.connection.workFail(later.handle); // a failed run is a run too

    const [mail] = s.timings();
    expect(mail?.functionName).toBe('mail');
    const { wait, run } = mail!;
    expect(wait.count).toBe(2);
    expect(wait.sum).toBeCloseTo(0.254, 9);
    expect(wait.counts[bucketOf(wait.bounds, 0.25)]).toBe(1);
    expect(wait.counts[bucketOf(wait.bounds, 0.004)]).toBe(1);
    expect(run.count).toBe(2);
    expect(run.sum).toBeCloseTo(3.02, 9);
    expect(run.counts[bucketOf(run.bounds, 3)]).toBe(1);
    expect(run.counts[bucketOf(run.bounds, 0.02)]).toBe(1);
    expect(run.counts.reduce((a, b) => a + b, 0)).toBe(run.count);
    expect(run.counts).toHaveLength(run.bounds.length + 1);
  });

  it('gives a job queued before timings were on no wait, and counts a lost run', async () => {
    const clock = virtualClock();
    await clock.runTo(500);
    const s = server({ scheduler: clock.scheduler });
    const w = workerConnection(s, 'mail');
    const old = await submitted(s.connect(), background('mail', 'old'));
    await clock.runTo(600);
    s.measureTimings();
    await grabbed(w.connection);
    await clock.runTo(700);
    w.connection.close(); // the worker is lost: the attempt ended
    // Queued again at once, it waits from the lost run's end, which is not kept: no wait.
    const again = workerConnection(s, 'mail');
    await clock.runTo(800);
    expect((await grabbed(again.connection))?.handle).toBe(old.handle);
    const [mail] = s.timings();
    expect(mail?.wait.count).toBe(0);
    expect(mail?.run.count).toBe(1);
    expect(mail?.run.sum).toBeCloseTo(0.1, 9);
    expect((await s.job(old.handle))?.state).toBe('running');
    expect((await s.job(old.handle))?.attempt).toBe(2);
  });
});

describe('listing live jobs', () => {
  localOnly(CLAIMED_RUNNING)(
    'lists running jobs with their progress, longest running first, within a limit',
    async () => {
      const clock = virtualClock();
      const s = server({ scheduler: clock.scheduler });
      s.measureTimings();
      const w = workerConnection(s, 'resize', 'mail');
      const c = s.connect();
      const first = await submitted(c, background('resize', 'a'));
      await grabbed(w.connection);
      await clock.runTo(10);
      const second = await submitted(c, background('resize', 'b'));
      await grabbed(w.connection);
      await submitted(c, background('resize', 'queued'));
      await submitted(c, background('mail', 'm', { runAt: 500 }));
      await submitted(c, background('mail', 'n', { runAt: 200 }));
      w.connection.workStatus(second.handle, 3, 4);
      await settled();

      const running = await s.jobs({ state: 'running' });
      expect(running.map((j) => j.handle)).toEqual([first.handle, second.handle]);
      expect(running[1]).toMatchObject({
        numerator: 3,
        denominator: 4,
        startedAt: 10,
        attempt: 1,
        worker: w.connection.id,
        state: 'running',
      });
      expect((await s.jobs({ state: 'running', limit: 1 })).map((j) => j.handle)).toEqual([
        first.handle,
      ]);
      expect((await s.jobs({ state: 'delayed' })).map((j) => j.runAt)).toEqual([200, 500]);
      expect((await s.jobs({ state: 'delayed', limit: 1 })).map((j) => j.runAt)).toEqual([200]);
      expect((await s.jobs({ state: 'queued' })).map((j) => j.functionName)).toEqual(['resize']);
      expect(await s.jobs({ functionName: 'mail' })).toHaveLength(2);
      expect(await s.jobs({ functionName: 'nothing' })).toEqual([]);
      expect(await s.jobs({ limit: 2 })).toHaveLength(2);
      expect(await s.jobs()).toHaveLength(5);
      expect((await s.job(second.handle))?.numerator).toBe(3);
      expect(await s.job('H:nowhere:1')).toBeUndefined();
    },
  );

  it('lists the earliest delayed jobs of a large heap, passing over the ended ones', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const c = s.connect();
    const handles = [];
    for (let i = 0; i < 2000; i++) {
      handles.push(
        (await submitted(c, background('later', `${i}`, { runAt: 100_000 - i }))).handle,
      );
    }
    // The two earliest are cancelled: the heap still holds them, the listing does not.
    await s.cancel(handles[1999]!);
    await s.cancel(handles[1998]!);
    const rows = await s.jobs({ state: 'delayed', limit: 3 });
    expect(rows.map((r) => r.runAt)).toEqual([98_003, 98_004, 98_005]);
  });

  it('refuses a bad limit or state with INVALID_ARGUMENT', async () => {
    const s = server();
    await expect(s.jobs({ limit: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(s.jobs({ limit: 1.5 })).rejects.toThrow(InvalidArgumentError);
    await expect(s.jobs({ state: 'gone' as 'queued' })).rejects.toThrow(InvalidArgumentError);
  });
});
