import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WAKE_TIMEOUT,
  InvalidArgumentError,
  type JobServer,
  type JobServerOptions,
} from '../src/index.js';
import { type Connection } from '../src/transport.js';
import {
  CLAIMED_RUNNING,
  COUNTS_TIMERS,
  localOnly,
  runClockTo,
  server,
  settled,
  submitted,
} from './helpers.js';

/**
 * The wake rule on virtual time (decision 18): one NOOP per job, and every sleeper once a
 * woken worker has not grabbed within `wakeTimeout`. Workers are simulated as libgearman's
 * loop does it: NOOP → GRAB_JOB → (job → WORK_COMPLETE → GRAB_JOB) or (NO_JOB → PRE_SLEEP).
 */

const LATENCY = 1; // ms a responsive worker takes to answer a NOOP
const WORK = 5; // ms a job takes

function virtualClock() {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  return {
    scheduler,
    get now() {
      return scheduler.now();
    },
    /** Runs the timers due by `t`, and lets the queue answer what they set off. */
    advanceTo: (t: number) => runClockTo(scheduler, t),
  };
}

interface SimWorker {
  readonly connection: Connection;
  /** NOOPs received. */
  wakes: number;
  /** GRAB_JOBs answered with NO_JOB. */
  noJobs: number;
  jobsDone: number;
}

type Clock = ReturnType<typeof virtualClock>;

/** A worker that answers every NOOP after LATENCY ms, or (`responsive: false`) never. */
function simWorker(s: JobServer, clock: Clock, responsive: boolean, fn = 'f'): SimWorker {
  const grabLoop = (): void => {
    const assignment = w.connection.grab();
    if (assignment === undefined) {
      w.noJobs++;
      w.connection.preSleep();
      return;
    }
    clock.scheduler.schedule(() => {
      w.connection.workComplete(assignment, 'ok');
      w.jobsDone++;
      grabLoop();
    }, WORK);
  };
  const w: SimWorker = {
    wakes: 0,
    noJobs: 0,
    jobsDone: 0,
    connection: s.connect({
      sink: {
        wake: () => {
          w.wakes++;
          if (responsive) clock.scheduler.schedule(grabLoop, LATENCY);
        },
      },
    }),
  };
  w.connection.canDo(fn);
  w.connection.preSleep();
  return w;
}

/** Submits background jobs and records how long each waited for a worker. */
function jobWaits(s: JobServer) {
  const submittedAt = new Map<string, number>();
  const waits = new Map<string, number>();
  s.events$.subscribe((event) => {
    if (event.type === 'submitted') submittedAt.set(event.handle, event.time);
    if (event.type === 'started' && !waits.has(event.handle)) {
      waits.set(event.handle, event.time - submittedAt.get(event.handle)!);
    }
  });
  return waits;
}

function setup(options: JobServerOptions = {}) {
  const clock = virtualClock();
  const s = server({ scheduler: clock.scheduler, ...options });
  const client = s.connect();
  const waits = jobWaits(s);
  /** Submits, and lets the queue answer (a shared queue claims the job for a sleeper). */
  const post = async (payload = 'x') => {
    const { handle } = await submitted(client, { functionName: 'f', payload, background: true });
    await settled();
    return handle;
  };
  return { clock, s, waits, post };
}

const total = (ws: SimWorker[], key: 'wakes' | 'noJobs' | 'jobsDone') =>
  ws.reduce((n, w) => n + w[key], 0);

describe('the wake rule on virtual time', () => {
  it('1 sleeper that answers: one NOOP per job, no NO_JOB, no delay', async () => {
    const { clock, s, waits, post } = setup();
    const w = simWorker(s, clock, true);
    for (let i = 0; i < 10; i++) {
      await post();
      await clock.advanceTo(clock.now + 50);
    }
    expect(w.jobsDone).toBe(10);
    expect(w.wakes).toBe(10);
    expect(w.noJobs).toBe(10); // the grab after each job, before PRE_SLEEP
    expect(Math.max(...waits.values())).toBe(LATENCY);
  });

  localOnly(CLAIMED_RUNNING)(
    '1 sleeper that never answers: woken once, not again for later jobs',
    async () => {
      const { clock, s, post } = setup();
      const dead = simWorker(s, clock, false);
      await post();
      await clock.advanceTo(10 * DEFAULT_WAKE_TIMEOUT);
      await post();
      await clock.advanceTo(20 * DEFAULT_WAKE_TIMEOUT);
      // A worker is woken once per PRE_SLEEP, as gearmand does; the jobs wait for a worker.
      expect(dead.wakes).toBe(1);
      expect((await s.functions())[0]).toMatchObject({ running: 0, queued: { normal: 2 } });
    },
  );

  it('2 sleepers, the older one dead: the live one gets the job within wakeTimeout', async () => {
    const { clock, s, waits, post } = setup();
    const dead = simWorker(s, clock, false);
    const live = simWorker(s, clock, true);
    const first = await post();
    expect([dead.wakes, live.wakes]).toEqual([1, 0]);
    await clock.advanceTo(DEFAULT_WAKE_TIMEOUT - 1);
    expect(live.wakes).toBe(0);
    await clock.advanceTo(DEFAULT_WAKE_TIMEOUT);
    expect(live.wakes).toBe(1);
    await clock.advanceTo(DEFAULT_WAKE_TIMEOUT + LATENCY);
    expect(waits.get(first)).toBe(DEFAULT_WAKE_TIMEOUT + LATENCY);
    // The dead worker no longer sleeps, so the next job goes straight to the live one.
    await clock.advanceTo(1000);
    const second = await post();
    await clock.advanceTo(2000);
    expect(waits.get(second)).toBe(LATENCY);
    expect([dead.wakes, live.wakes, live.jobsDone]).toEqual([1, 2, 2]);
  });

  it('2 sleepers that answer: each job wakes one of them, never both', async () => {
    const { clock, s, post } = setup();
    const ws = [simWorker(s, clock, true), simWorker(s, clock, true)];
    for (let i = 0; i < 20; i++) {
      await post();
      await clock.advanceTo(clock.now + 50);
    }
    expect(total(ws, 'jobsDone')).toBe(20);
    expect(total(ws, 'wakes')).toBe(20);
  });

  it('100 sleepers of whom 30 never answer: every job waits at most wakeTimeout', async () => {
    const { clock, s, waits, post } = setup();
    const ws: SimWorker[] = [];
    // Dead ones spread through the sleep order, some of them at its head.
    for (let i = 0; i < 100; i++) ws.push(simWorker(s, clock, i % 10 < 3));
    const live = ws.filter((_, i) => i % 10 < 3);
    const dead = ws.filter((_, i) => i % 10 >= 3);
    expect([live.length, dead.length]).toEqual([30, 70]);
    for (let i = 0; i < 200; i++) {
      await post();
      await clock.advanceTo(clock.now + 20);
    }
    await clock.advanceTo(clock.now + 1000);
    expect(total(live, 'jobsDone')).toBe(200);
    expect(Math.max(...waits.values())).toBeLessThanOrEqual(DEFAULT_WAKE_TIMEOUT + LATENCY);
    // A dead worker is woken once (it never sleeps again); the rest is about one per job.
    expect(dead.every((w) => w.wakes <= 1)).toBe(true);
    expect(total(live, 'wakes') / 200).toBeLessThan(1.5);
  });

  it('100 sleepers that all answer: one NOOP per job, not 100', async () => {
    const { clock, s, post } = setup();
    const ws = Array.from({ length: 100 }, () => simWorker(s, clock, true));
    for (let i = 0; i < 500; i++) {
      await post();
      await clock.advanceTo(clock.now + 10);
    }
    expect(total(ws, 'jobsDone')).toBe(500);
    expect(total(ws, 'wakes')).toBe(500);
    // Each woken worker asks once more after its job and is told NO_JOB.
    expect(total(ws, 'noJobs')).toBe(500);
  });

  it('a woken worker slower than wakeTimeout makes the others wake, and the job runs once', async () => {
    const { clock, s, waits, post } = setup({ wakeTimeout: 10 });
    const slow = simWorker(s, clock, false); // woken first; answers by hand at 50 ms
    const live = simWorker(s, clock, true);
    const handle = await post();
    await clock.advanceTo(50);
    expect(waits.get(handle)).toBe(10 + LATENCY);
    expect(slow.connection.grab()).toBeUndefined(); // its late grab finds nothing
    await clock.advanceTo(100);
    expect([slow.wakes, live.wakes, live.jobsDone]).toEqual([1, 1, 1]);
  });

  it('workerWakeup 0 wakes every sleeper per job (gearmand); 2 wakes two', async () => {
    for (const [workerWakeup, expected] of [
      [0, 10],
      [2, 2],
      [1, 1],
    ] as const) {
      const { clock, s, post } = setup({ workerWakeup });
      const ws = Array.from({ length: 10 }, () => simWorker(s, clock, true));
      await post();
      await clock.advanceTo(100);
      expect(total(ws, 'wakes')).toBe(expected);
      expect(total(ws, 'jobsDone')).toBe(1);
      // Everyone woken but the one that got the job was told NO_JOB (and the winner once more).
      expect(total(ws, 'noJobs')).toBe(expected);
    }
  });

  it('wakeTimeout Infinity keeps the old rule: a dead woken worker holds the job back', async () => {
    const { clock, s, post } = setup({ wakeTimeout: Infinity });
    simWorker(s, clock, false);
    const live = simWorker(s, clock, true);
    await post();
    await clock.advanceTo(60_000);
    expect(live.wakes).toBe(0);
  });

  it('holds for in-process workers beside a dead connection', async () => {
    const clock = virtualClock();
    const s = server({ scheduler: clock.scheduler });
    simWorker(s, clock, false); // asleep first, so it is woken first
    const worker = s.worker();
    const ran: string[] = [];
    worker.register('f', (job) => {
      ran.push(job.payload.toString());
    });
    for (let i = 0; i < 10; i++) await Promise.resolve(); // the worker starts and sleeps
    const client = s.client();
    const { handle } = await client.submit('f', 'hello', { background: true });
    await settled();
    await clock.advanceTo(DEFAULT_WAKE_TIMEOUT);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await settled();
    expect(ran).toEqual(['hello']);
    expect((await s.status(handle)).known).toBe(false);
    await worker.stop();
  });

  it('a PRE_SLEEP answers a NOOP: a worker that sleeps again instead of grabbing is woken for the next job', async () => {
    const { clock, s, waits, post } = setup();
    const wakes: number[] = [];
    const w = s.connect({ sink: { wake: () => wakes.push(clock.now) } });
    w.canDo('f');
    w.preSleep();
    const other = s.connect({ sink: { wake: () => undefined } });
    other.canDo('f');
    await post('first');
    expect(wakes).toEqual([0]);
    expect(other.grab()?.payload.toString()).toBe('first'); // someone else took it
    w.preSleep(); // w answers its NOOP by sleeping again, twice
    w.preSleep();
    await clock.advanceTo(10);
    const second = await post('second');
    const third = await post('third');
    expect(wakes).toEqual([0, 10]); // woken at once, not after the wake timeout
    expect(w.grab()?.handle).toBe(second);
    expect(w.grab()?.handle).toBe(third);
    await clock.advanceTo(1000);
    expect(waits.get(second)).toBe(0);
    expect(wakes).toEqual([0, 10]);
  });

  localOnly(COUNTS_TIMERS)('leaves no wake timer behind once the server has closed', async () => {
    const { clock, s, post } = setup();
    simWorker(s, clock, false);
    simWorker(s, clock, false);
    await post();
    expect(clock.scheduler.actions.length).toBe(1); // the dead worker's wake is timed
    await s.close({ timeout: 0 });
    expect(clock.scheduler.actions.length).toBe(0);
    // A transport's connection that goes on after close (a TCP session not yet ended) and
    // sleeps beside the queued job is woken, but nothing is timed any more.
    const late = simWorker(s, clock, false);
    expect(late.wakes).toBe(1);
    expect(clock.scheduler.actions.length).toBe(0);
  });

  it('refuses a negative or fractional workerWakeup and a wakeTimeout that is not > 0', () => {
    for (const options of [
      { workerWakeup: -1 },
      { workerWakeup: 1.5 },
      { wakeTimeout: 0 },
      { wakeTimeout: Number.NaN },
    ]) {
      expect(() => server(options)).toThrow(InvalidArgumentError);
    }
  });
});
