import { asyncScheduler, firstValueFrom, take, timer, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ServerTimers } from '../src/internal/timers.js';
import { server } from './helpers.js';

// The job server's default scheduler: rxjs's clock, timers that do not keep the process
// alive. (That a process ends, or is held while someone waits, is shown with real processes
// in test/embed.test.ts.)

/** Timers that keep the event loop alive now (Node lists only ref'd ones). */
const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

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
    const before = refTimers();
    const unref = new ServerTimers(() => false).schedule(() => undefined, 600_000);
    expect(refTimers()).toBe(before);
    const kept = asyncScheduler.schedule(() => undefined, 600_000);
    expect(refTimers()).toBe(before + 1);
    unref.unsubscribe();
    kept.unsubscribe();
    expect(refTimers()).toBe(before);
  });

  it('is the server’s default: a delayed job and a back-off set no timer that keeps the process', async () => {
    const s = server();
    const before = refTimers();
    const client = s.client();
    const job = await client.submit('later', 'x', { delay: 600_000 });
    s.worker().register('flaky', () => {
      throw new Error('again');
    });
    await client.submit('flaky', 'y', { background: true, attempts: 2, backoff: 600_000 });
    await firstValueFrom(timer(20, s.scheduler));
    expect(s.jobs().map((j) => j.state)).toEqual(['delayed', 'delayed']);
    expect(refTimers()).toBe(before);
    // The timers are real: the delayed job is due at its time on the real clock.
    expect(s.job(job.handle)!.runAt - Date.now()).toBeGreaterThan(590_000);
    await s.close({ timeout: 0 });
  });

  it('leaves a worker’s own timers (maxRunTime, its jobs’ timeouts) keeping the process, as its work does', async () => {
    const s = server();
    const before = refTimers();
    const worker = s.worker({ maxRunTime: 600_000 });
    worker.register('f', () => 'x');
    await firstValueFrom(timer(1, s.scheduler)); // it starts on a microtask
    expect(refTimers()).toBe(before + 1);
    await worker.close();
    expect(refTimers()).toBe(before);
    await s.close({ timeout: 0 });
  });
});
