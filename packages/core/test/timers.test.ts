import { asyncScheduler, firstValueFrom, take, timer, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerTimers } from '../src/internal/timers.js';
import { server } from './helpers.js';

// The job server's default scheduler: rxjs's clock, timers that do not keep the process
// alive. (That a process ends, or is held while someone waits, is shown with real processes
// in test/embed.test.ts.)

const LONG = 600_000;

/**
 * The Node timers set from now on for about LONG ms (the tests' own delays, so no other
 * timer of the process counts), and whether each keeps the event loop alive (`hasRef`) now.
 */
function watchLongTimers(): () => boolean[] {
  const handles: NodeJS.Timeout[] = [];
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const real = globalThis[name];
    vi.spyOn(globalThis, name).mockImplementation((...args: Parameters<typeof setTimeout>) => {
      const handle = (real as typeof setTimeout)(...args);
      if (typeof args[1] === 'number' && args[1] > LONG - 10_000) handles.push(handle);
      return handle;
    });
  }
  return () => handles.map((handle) => handle.hasRef());
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ServerTimers', () => {
  it('runs work with its state after its delay, and again when the work reschedules itself', async () => {
    const timers = new ServerTimers(() => false);
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      timers.schedule<number>(
        function (n) {
          seen.push(n!);
          if (n! < 3) this.schedule(n! + 1, 1);
          else resolve();
        },
        5,
        1,
      );
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(Math.abs(timers.now() - Date.now())).toBeLessThan(50);
  });

  it('serves rxjs operators (timer with a period), and unsubscribing cancels', async () => {
    const timers = new ServerTimers(() => false);
    expect(await firstValueFrom(timer(1, 1, timers).pipe(take(3), toArray()))).toEqual([0, 1, 2]);
    let ran = false;
    const cancelled = timers.schedule(() => (ran = true), 1);
    cancelled.unsubscribe();
    await firstValueFrom(timer(20, timers));
    expect(ran).toBe(false);
    expect(cancelled.closed).toBe(true);
  });

  it('rethrows what the work throws, and that timer is done', () => {
    const timers = new ServerTimers(() => false);
    const thrown = new Promise<unknown>((resolve) => {
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (error) => {
        for (const l of listeners) process.on('uncaughtException', l);
        resolve(error);
      });
    });
    const action = timers.schedule(() => {
      throw new Error('boom');
    }, 1);
    return thrown.then((error) => {
      expect(error).toMatchObject({ message: 'boom' });
      expect(action.closed).toBe(true);
    });
  });

  it('sets timers that do not keep the process alive, where asyncScheduler’s do', () => {
    const refs = watchLongTimers();
    const unref = new ServerTimers(() => false).schedule(() => undefined, LONG);
    const kept = asyncScheduler.schedule(() => undefined, LONG);
    expect(refs()).toEqual([false, true]);
    unref.unsubscribe();
    kept.unsubscribe();
  });

  it('is the server’s default: a delayed job and a back-off set no timer that keeps the process', async () => {
    const s = server();
    const refs = watchLongTimers();
    const client = s.client();
    const job = await client.submit('later', 'x', { delay: LONG });
    s.worker().register('flaky', () => {
      throw new Error('again');
    });
    // Due before the delayed job: the one timer of delayed jobs is set again, for it.
    await client.submit('flaky', 'y', { background: true, attempts: 2, backoff: LONG - 5000 });
    await firstValueFrom(timer(20, s.scheduler));
    expect((await s.jobs()).map((j) => j.state)).toEqual(['delayed', 'delayed']);
    expect(refs()).toEqual([false, false]);
    // The timers are real: the delayed job is due at its time on the real clock.
    expect((await s.job(job.handle))!.runAt - Date.now()).toBeGreaterThan(LONG - 10_000);
    await s.close({ timeout: 0 });
  });

  it('leaves a worker’s own timers (maxRunTime, its jobs’ timeouts) keeping the process, as its work does', async () => {
    const s = server();
    const refs = watchLongTimers();
    const worker = s.worker({ maxRunTime: LONG });
    worker.register('f', () => 'x');
    await firstValueFrom(timer(1, s.scheduler)); // it starts on a microtask
    expect(refs()).toEqual([true]);
    await worker.close();
    await s.close({ timeout: 0 });
  });
});
