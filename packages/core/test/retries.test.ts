import { describe, expect, it } from 'vitest';
import { backoffDelay, InvalidArgumentError, MemoryJobStore, type JobEvent } from '../src/index.js';
import {
  assigned,
  grabbed,
  localOnly,
  NEEDS_STORE,
  recorder,
  server,
  settled,
  submitted,
  workerConnection,
  virtualClock,
} from './helpers.js';

describe('back-off schedules', () => {
  it('fixed and exponential, capped', () => {
    const never = () => 0;
    const fixed = { type: 'fixed', delay: 500 } as const;
    expect([1, 2, 3].map((n) => backoffDelay(fixed, n, never))).toEqual([500, 500, 500]);
    const exp = { type: 'exponential', delay: 1000, max: 5000 } as const;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(exp, n, never))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('takes up to the jitter fraction off, never more, never adding', () => {
    const exp = { type: 'exponential', delay: 1000, jitter: 0.5 } as const;
    expect(backoffDelay(exp, 3, () => 0)).toBe(4000);
    expect(backoffDelay(exp, 3, () => 0.999999)).toBe(2000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(exp, 2, Math.random);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it('refuses a policy that makes no sense', async () => {
    const s = server();
    await expect(s.setJobPolicy('f', { attempts: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(s.setJobPolicy('f', { attempts: 2, backoff: -1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      s.setJobPolicy('f', { attempts: 2, backoff: { type: 'fixed', delay: 1, jitter: 2 } }),
    ).rejects.toThrow(InvalidArgumentError);
    const bad = (value: unknown) => value as never;
    // A setting it does not know is refused, not ignored (a typo would retry nothing).
    await expect(s.setJobPolicy('f', bad({ attempt: 3 }))).rejects.toThrow(
      /unknown setting 'attempt' in policy \(did you mean 'attempts'\?\)/,
    );
    await expect(s.setJobPolicy('f', bad(undefined))).rejects.toThrow(InvalidArgumentError);
    for (const backoff of [null, 'fast', { type: 'fixed', delay: 1, cap: 9 }]) {
      await expect(s.setJobPolicy('f', { attempts: 2, backoff: bad(backoff) })).rejects.toThrow(
        InvalidArgumentError,
      );
    }
    expect(await s.jobPolicy('f')).toBeNull();
    await s.setJobPolicy('f', { attempts: 3, backoff: 100 });
    expect(await s.jobPolicy('f')).toEqual({ attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    await s.setJobPolicy('f', null);
    expect(await s.jobPolicy('f')).toBeNull();
  });
});

describe('retries on virtual time', () => {
  it('a failed attempt waits for its back-off under the same handle, known and not running', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('charge', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
    });
    const events: JobEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    const w = workerConnection(s, 'charge');
    const { handle } = await submitted(s.connect(), {
      functionName: 'charge',
      payload: 'order-7',
      background: true,
      unique: 'order-7',
    });
    const first = (await assigned(w.connection))!;
    expect(first.attempt).toBe(1);
    w.connection.workFail(handle);
    await settled();
    expect(await s.status(handle)).toMatchObject({ known: true, running: false });
    expect(events.filter((e) => e.type === 'retrying')).toMatchObject([
      { handle, attempt: 1, reason: 'WORK_FAIL', delay: 1000 },
    ]);
    expect(await grabbed(w.connection)).toBeUndefined();
    await clock.runTo(999);
    expect(await grabbed(w.connection)).toBeUndefined();
    await clock.runTo(1000);
    const second = (await assigned(w.connection))!;
    expect([second.handle, second.attempt]).toEqual([handle, 2]);
    w.connection.workException(handle, Buffer.from('boom'));
    await settled();
    expect(events.filter((e) => e.type === 'retrying').map((e) => e.time)).toEqual([0, 1000]);
    await clock.runTo(1000 + 1999);
    expect(await grabbed(w.connection)).toBeUndefined();
    await clock.runTo(3000);
    const third = (await assigned(w.connection))!;
    expect(third.attempt).toBe(3);
    w.connection.workFail(handle);
    await settled();
    // The third attempt was the last: the job fails for good.
    expect((await s.status(handle)).known).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'failed', handle, reason: 'WORK_FAIL' });
  });

  it('a foreground client sees only the final outcome', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('f', { attempts: 2, backoff: 10 });
    const w = workerConnection(s, 'f');
    const listener = recorder(true);
    const { handle } = await submitted(s.connect(), { functionName: 'f', payload: 'x' }, listener);
    await assigned(w.connection);
    w.connection.workException(handle, Buffer.from('first try'));
    await settled();
    expect(listener.types()).toEqual([]);
    await clock.runTo(10);
    await assigned(w.connection);
    w.connection.workComplete(handle, Buffer.from('ok'));
    await settled();
    expect(listener.types()).toEqual(['complete']);
  });

  it('counts a timeout and a lost worker as attempts; a timed-out holder has its job revoked', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('slow', { attempts: 3 });
    const a = workerConnection(s);
    a.connection.canDo('slow', { timeout: 50 });
    const { handle } = await submitted(s.connect(), { functionName: 'slow', background: true });
    expect((await assigned(a.connection))!.attempt).toBe(1);
    await clock.runTo(50);
    expect(a.revoked).toEqual([[handle, 'TIMEOUT']]);
    // No back-off: the job is first in line again at once.
    const b = workerConnection(s, 'slow');
    expect((await assigned(b.connection))!.attempt).toBe(2);
    b.connection.close();
    await settled();
    const c = workerConnection(s, 'slow');
    expect((await assigned(c.connection))!.attempt).toBe(3);
    c.connection.close();
    await settled();
    expect((await s.status(handle)).known).toBe(false);
  });

  it("a job's own policy comes before its function's", async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.setJobPolicy('f', { attempts: 5 });
    const w = workerConnection(s, 'f');
    const { handle } = await submitted(s.connect(), {
      functionName: 'f',
      background: true,
      retry: { attempts: 1 },
    });
    await assigned(w.connection);
    w.connection.workFail(handle);
    await settled();
    expect((await s.status(handle)).known).toBe(false);
  });

  localOnly(NEEDS_STORE)(
    'keeps the attempts and the time of the next one in the store, for a restart',
    async () => {
      const clock = virtualClock();
      const store = new MemoryJobStore();
      const first = server({
        scheduler: clock.scheduler,
        store,
        jobPolicies: { f: { attempts: 3, backoff: 60_000 } },
      });
      const w = workerConnection(first, 'f');
      const { handle } = await submitted(first.connect(), { functionName: 'f', background: true });
      await assigned(w.connection);
      w.connection.workFail(handle);
      await settled();
      expect(store.list().map((r) => [r.id, r.attempts, r.runAt])).toEqual([[handle, 1, 60_000]]);
      // The process dies; a new server on the same store, with the same policies.
      const second = server({
        scheduler: clock.scheduler,
        store,
        jobPolicies: { f: { attempts: 3, backoff: 60_000 } },
      });
      expect(await second.jobs()).toMatchObject([{ handle, state: 'delayed' }]);
      const v = workerConnection(second, 'f');
      expect(await assigned(v.connection)).toBeUndefined();
      await clock.runTo(60_000);
      expect(await assigned(v.connection)).toMatchObject({ handle, attempt: 2 });
    },
  );
});

describe('retries while the server closes', () => {
  localOnly(NEEDS_STORE)(
    'keeps a background job in the store when its worker goes during the close',
    async () => {
      const store = new MemoryJobStore();
      const s = server({ store, jobPolicies: { f: { attempts: 3 } } });
      const w = workerConnection(s, 'f');
      const { handle } = await submitted(s.connect(), { functionName: 'f', background: true });
      await assigned(w.connection);
      const closed = s.close({ timeout: 10_000 });
      w.connection.close();
      await settled();
      await closed;
      expect(store.list().map((r) => r.id)).toEqual([handle]);
      expect(await s.outcomes()).toEqual([]);
    },
  );
});
