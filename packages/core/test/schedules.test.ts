import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  MemoryJobStore,
  UniqueTooLargeError,
  type JobEvent,
  type JobServer,
} from '../src/index.js';
import {
  grabbed,
  COUNTS_TIMERS,
  localOnly,
  NEEDS_STORE,
  server,
  settled,
  submitted,
  virtualClock,
  workerConnection,
} from './helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function ticks(events: JobEvent[]) {
  return events.flatMap((e) => (e.type === 'scheduled' ? [e] : []));
}

function record(s: JobServer) {
  const events: JobEvent[] = [];
  s.events$.subscribe((e) => events.push(e));
  return events;
}

describe('interval schedules', () => {
  it('advance one hour: twelve ticks of a five-minute schedule ran, each job once', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const events = record(s);
    await s.schedule('cleanup', { every: 5 * MINUTE, functionName: 'cleanup', payload: 'tmp' });
    await clock.runTo(HOUR);
    const seen = ticks(events);
    expect(seen.map((e) => e.tick)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i + 1) * 5 * MINUTE),
    );
    // Each submitted at its tick, exactly.
    expect(seen.every((e) => e.time === e.tick && !e.coalesced)).toBe(true);
    const jobs = await s.jobs();
    expect(jobs).toHaveLength(12);
    expect(jobs[0]).toMatchObject({
      functionName: 'cleanup',
      unique: `cleanup:${5 * MINUTE}`,
      background: true,
    });
    expect((await s.schedules())[0]).toMatchObject({
      id: 'cleanup',
      lastTick: HOUR,
      nextTick: HOUR + 5 * MINUTE,
    });
    const w = workerConnection(s, 'cleanup');
    expect((await grabbed(w.connection))?.payload).toBe('tmp');
  });

  it('a tick whose job is still live coalesces onto it instead of a second job', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const events = record(s);
    // A fixed unique prefix and a tick: two schedules naming the same tick share its job.
    await s.schedule('a', { every: 1000, functionName: 'f', unique: 'same' });
    await s.schedule('b', { every: 1000, functionName: 'f', unique: 'same' });
    await clock.runTo(1000);
    expect(ticks(events).map((e) => [e.scheduleId, e.coalesced])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(await s.jobs()).toHaveLength(1);
  });

  localOnly(COUNTS_TIMERS)('unschedule stops the ticks; the jobs submitted stay', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    await s.schedule('x', { every: 1000, functionName: 'f' });
    await clock.runTo(2000);
    expect(await s.unschedule('x')).toBe(true);
    expect(await s.unschedule('x')).toBe(false);
    // No timer is left behind for it (none would keep a process alive).
    expect(clock.scheduler.actions.filter((a) => !a.closed)).toEqual([]);
    await clock.runTo(10_000);
    expect(await s.jobs()).toHaveLength(2);
    expect(await s.schedules()).toEqual([]);
  });
});

describe('cron schedules', () => {
  it('with seconds: every ten seconds for a minute is six ticks', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    const events = record(s);
    await s.schedule('poll', { cron: '*/10 * * * * *', functionName: 'poll' });
    await clock.runTo(MINUTE);
    expect(ticks(events).map((e) => e.tick)).toEqual([10, 20, 30, 40, 50, 60].map((x) => x * 1000));
  });

  it('in a real time zone across both daylight-saving changes of 2026', async () => {
    const clock = virtualClock();
    const start = Date.parse('2026-03-27T12:00:00Z');
    clock.advanceTo(start);
    const s = server({ scheduler: clock.scheduler });
    const events = record(s);
    // 02:30 Berlin time does not exist on 29 March (02:00 → 03:00) and happens twice on
    // 25 October (03:00 → 02:00).
    await s.schedule('nightly', {
      cron: '0 30 2 * * *',
      timezone: 'Europe/Berlin',
      functionName: 'report',
    });
    await s.schedule('hourly', { cron: '0 * * * *', timezone: 'Europe/Berlin', functionName: 'h' });
    await clock.runTo(Date.parse('2026-03-31T00:00:00Z'));
    const nightly = () =>
      ticks(events)
        .filter((e) => e.scheduleId === 'nightly')
        .map((e) => new Date(e.tick).toISOString());
    expect(nightly()).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // the skipped 02:30 runs at 03:00 CEST, once
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    const hourlyOn29 = ticks(events).filter(
      (e) =>
        e.scheduleId === 'hourly' &&
        e.tick >= Date.parse('2026-03-28T23:00:00Z') && // midnight CET
        e.tick < Date.parse('2026-03-29T22:00:00Z'), // midnight CEST
    );
    expect(hourlyOn29).toHaveLength(23); // a 23-hour day

    // Through the summer without the hourly ticks (five thousand of them).
    await s.unschedule('hourly');
    await clock.runTo(Date.parse('2026-10-24T12:00:00Z'));
    await s.schedule('hourly', { cron: '0 * * * *', timezone: 'Europe/Berlin', functionName: 'h' });
    events.length = 0;
    await clock.runTo(Date.parse('2026-10-26T12:00:00Z'));
    expect(nightly()).toEqual([
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST) only
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    const hourlyOn25 = ticks(events).filter(
      (e) =>
        e.scheduleId === 'hourly' &&
        e.tick >= Date.parse('2026-10-24T22:00:00Z') && // midnight CEST
        e.tick < Date.parse('2026-10-25T23:00:00Z'), // midnight CET
    );
    expect(hourlyOn25).toHaveLength(25); // a 25-hour day: 02:00 ticks twice
  });

  it('refuses what is not a schedule', async () => {
    const s = server();
    await expect(s.schedule('x', { cron: 'bogus', functionName: 'f' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      s.schedule('x', { cron: '* * * * *', timezone: 'Mars/Olympus', functionName: 'f' }),
    ).rejects.toThrow(/unknown time zone/);
    await expect(s.schedule('x', { every: 0, functionName: 'f' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      s.schedule('x', { every: 10, cron: '* * * * *', functionName: 'f' }),
    ).rejects.toThrow(/either cron or every/);
    await expect(s.schedule('', { every: 10, functionName: 'f' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      s.schedule('x', { every: 10, functionName: 'f', unique: 'u'.repeat(60) }),
    ).rejects.toThrow(UniqueTooLargeError);
    expect(await s.schedules()).toEqual([]);
  });
});

describe('schedules across restarts', () => {
  /** A server on a virtual clock set to `at`, sharing `store`. */
  function serverAt(store: MemoryJobStore, at: number) {
    const clock = virtualClock();
    clock.advanceTo(at);
    const s = server({ scheduler: clock.scheduler, store });
    return { clock, s, events: record(s) };
  }

  async function downtime(catchUp: 'none' | 'latest' | 'all') {
    const store = new MemoryJobStore();
    const first = serverAt(store, 0);
    await first.s.schedule('every-minute', { every: MINUTE, functionName: 'f', catchUp });
    first.clock.advanceTo(3 * MINUTE);
    expect(ticks(first.events)).toHaveLength(3);
    await first.s.close();
    // Down from 3 to 10.5 minutes: the ticks of minutes 4 to 10 were missed.
    const second = serverAt(store, 10.5 * MINUTE);
    await second.s.ready;
    // The store's jobs and the missed ticks' are in place when the server is made.
    const tickOf = (unique: string) => Number(unique.split(':')[1]) / MINUTE;
    const missed = (await second.s.jobs()).map((j) => tickOf(j.unique)).filter((t) => t > 3);
    second.clock.advanceTo(11 * MINUTE);
    const after = [...missed, ...ticks(second.events).map((e) => e.tick / MINUTE)];
    const uniques = (await second.s.jobs()).map((j) => j.unique);
    expect(new Set(uniques).size).toBe(uniques.length);
    return { missed, after, jobs: uniques.length };
  }

  localOnly(NEEDS_STORE)('catch-up none: the missed ticks are skipped', async () => {
    expect(await downtime('none')).toEqual({ missed: [], after: [11], jobs: 3 + 1 });
  });

  localOnly(NEEDS_STORE)(
    'catch-up latest (the default): the newest missed tick runs at the start',
    async () => {
      expect(await downtime('latest')).toEqual({ missed: [10], after: [10, 11], jobs: 3 + 2 });
    },
  );

  localOnly(NEEDS_STORE)('catch-up all: every missed tick runs at the start', async () => {
    const all = await downtime('all');
    expect(all.missed).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(all.jobs).toBe(3 + 7 + 1);
  });

  localOnly(NEEDS_STORE)(
    'a tick is submitted once across a restart, even when its job still waits',
    async () => {
      const store = new MemoryJobStore();
      const first = serverAt(store, 0);
      await first.s.schedule('s', { every: MINUTE, functionName: 'f' });
      first.clock.advanceTo(MINUTE);
      await first.s.close();
      // Restarted at the same instant: the tick of minute 1 is stored with its job.
      const second = serverAt(store, MINUTE);
      await second.s.ready;
      expect(ticks(second.events)).toEqual([]);
      expect((await second.s.jobs()).map((j) => j.unique)).toEqual([`s:${MINUTE}`]);
      second.clock.advanceTo(2 * MINUTE);
      expect((await second.s.jobs()).map((j) => j.unique)).toEqual([
        `s:${MINUTE}`,
        `s:${2 * MINUTE}`,
      ]);
      expect((await second.s.schedules())[0]).toMatchObject({ lastTick: 2 * MINUTE, since: 0 });
    },
  );

  localOnly(NEEDS_STORE)(
    'redefining a schedule with the same timing keeps its last tick (a config loaded again)',
    async () => {
      const store = new MemoryJobStore();
      const first = serverAt(store, 0);
      await first.s.schedule('s', { every: MINUTE, functionName: 'f', catchUp: 'none' });
      first.clock.advanceTo(2 * MINUTE);
      await first.s.close();
      const second = serverAt(store, 2.5 * MINUTE);
      const info = await second.s.schedule('s', {
        every: MINUTE,
        functionName: 'f',
        payload: 'new',
        catchUp: 'none',
      });
      expect(info).toMatchObject({ lastTick: 2 * MINUTE, since: 0, nextTick: 3 * MINUTE });
      const changed = await second.s.schedule('s', { every: 2 * MINUTE, functionName: 'f' });
      expect(changed).toMatchObject({
        lastTick: null,
        since: 2.5 * MINUTE,
        nextTick: 4.5 * MINUTE,
      });
    },
  );
});

describe('ticks that cannot be submitted', () => {
  localOnly(
    "a shared queue's backend tells its nodes of the ticks it submitted, not yet of one that failed ('schedule-failed')",
  )('a full queue: reported, and the tick is tried again a second later', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler, maxQueue: 1 });
    const events = record(s);
    await s.schedule('s', { every: MINUTE, functionName: 'f', unique: 's' });
    await submitted(s.connect(), { functionName: 'f', payload: 'blocker', background: true });
    await clock.runTo(MINUTE);
    expect(events.filter((e) => e.type === 'schedule-failed')).toMatchObject([
      { scheduleId: 's', tick: MINUTE },
    ]);
    expect((await s.schedules())[0]).toMatchObject({ lastTick: null, nextTick: MINUTE + 1000 });
    // Room again: the retry submits the tick that failed.
    const w = workerConnection(s, 'f');
    const blocker = (await grabbed(w.connection))!;
    w.connection.workComplete(blocker.handle, Buffer.alloc(0));
    await settled();
    await clock.runTo(MINUTE + 1000);
    expect(ticks(events).map((e) => [e.tick, e.time])).toEqual([[MINUTE, MINUTE + 1000]]);
    expect((await s.schedules())[0]).toMatchObject({ lastTick: MINUTE, nextTick: 2 * MINUTE });
  });
});

describe('many schedules', () => {
  localOnly(COUNTS_TIMERS)(
    'ten thousand schedules hold one timer, for the earliest tick',
    async () => {
      const clock = virtualClock();
      const s = server({ scheduler: clock.scheduler });
      const pending = () => clock.scheduler.actions.filter((a) => !a.closed).length;
      const before = pending();
      for (let i = 0; i < 10_000; i++) {
        await s.schedule(`s${i}`, { every: MINUTE + i, functionName: 'f' });
      }
      expect(pending() - before).toBe(1);
      await clock.runTo(MINUTE + 10);
      expect(await s.jobs()).toHaveLength(11);
      expect(pending() - before).toBe(1);
      await settled();
    },
  );
});
