import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createJobServer,
  InvalidArgumentError,
  JobExceptionError,
  JobFailedError,
  SubmissionAbortedError,
  WorkFail,
  type LoggerLike,
  type WorkerEvent,
} from '../src/index.js';
import { assigned, foregroundHandle, nextEvent, server, settled, submitted } from './helpers.js';

describe('in-process client and worker', () => {
  it('returns results as Buffers, with text and JSON conveniences', async () => {
    const s = server();
    s.worker()
      .register('upper', (job) => job.text().toUpperCase())
      .register('sum', (job) => ({ sum: job.json<number[]>().reduce((a, b) => a + b, 0) }))
      .register('bytes', () => Buffer.from([0, 1, 2]))
      .register('nothing', () => undefined);
    const client = s.client();
    expect(await client.run('upper', 'abc')).toEqual(Buffer.from('ABC'));
    expect(await (await client.submit('sum', JSON.stringify([1, 2, 3]))).json()).toEqual({
      sum: 6,
    });
    expect(await client.run('bytes')).toEqual(Buffer.from([0, 1, 2]));
    expect(await client.run('nothing')).toEqual(Buffer.alloc(0));
    await s.close();
  });

  it('rejects with a typed error: exception, plain failure, async rejection', async () => {
    const s = server();
    s.worker()
      .register('throws', () => {
        throw new Error('disk full');
      })
      .register('fails', () => {
        throw new WorkFail();
      })
      .register('rejects', async () => Promise.reject(new Error('async boom')));
    const client = s.client();
    const thrown = await client.run('throws').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(JobExceptionError);
    expect(thrown).toMatchObject({ code: 'JOB_EXCEPTION', message: 'disk full' });
    await expect(client.run('fails')).rejects.toMatchObject({
      code: 'JOB_FAILED',
      reason: 'WORK_FAIL',
    });
    await expect(client.run('rejects')).rejects.toThrow('async boom');
    const plain = s.client({ exceptions: false });
    const failed = await plain.run('throws').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(JobFailedError);
    expect(failed).toMatchObject({ reason: 'EXCEPTION' });
    await s.close();
  });

  it('replays every update to late subscribers of events$', async () => {
    const s = server();
    s.worker().register('report', (job) => {
      job.status(1, 2);
      job.data('part');
      job.warning('careful');
      job.status(2, 2);
      return 'whole';
    });
    const job = await s.client().submit('report');
    await job.result;
    const updates = await lastValueFrom(job.events$.pipe(toArray()));
    expect(updates).toEqual([
      { type: 'status', numerator: 1, denominator: 2 },
      { type: 'data', data: Buffer.from('part') },
      { type: 'warning', data: Buffer.from('careful') },
      { type: 'status', numerator: 2, denominator: 2 },
      { type: 'complete', data: Buffer.from('whole') },
    ]);
    await s.close();
  });

  it('polls a background job’s status while its worker reports progress', async () => {
    const s = server();
    let step!: () => void;
    s.worker().register('encode', async (job) => {
      for (let i = 1; i <= 3; i++) {
        await new Promise<void>((resolve) => (step = resolve));
        job.status(i, 3);
      }
    });
    const client = s.client();
    const started = nextEvent(s, (e) => e.type === 'started', "the job's start");
    const job = await client.submit('encode', 'video', { background: true });
    await expect(job.result).rejects.toBeInstanceOf(InvalidArgumentError);
    await started;
    const seen = [];
    for (let i = 1; i <= 3; i++) {
      // Each step's report, once the queue has it (a shared queue writes progress after a
      // round trip, then at most once an interval).
      const reported = nextEvent(
        s,
        (e) => (i < 3 ? e.type === 'progress' && e.numerator === i : e.type === 'completed'),
        `step ${i}'s report`,
      );
      step();
      await reported;
      seen.push(await client.status(job.handle));
    }
    expect(seen.map((st) => [st.known, st.running, st.numerator, st.denominator])).toEqual([
      [true, true, 1, 3],
      [true, true, 2, 3],
      [false, false, 0, 0],
    ]);
    await s.close();
  });

  it('gives one handle to the same unique id submitted twice while queued', async () => {
    const s = server();
    const client = s.client();
    const a = await client.submit('sleep', '3', { unique: '123', background: true });
    const b = await client.submit('sleep', '5', { unique: '456', background: true });
    const c = await client.submit('sleep', '1', { unique: '123', background: true });
    expect(c.handle).toBe(a.handle);
    expect(c.coalesced).toBe(true);
    expect(b.handle).not.toBe(a.handle);
    await s.close({ timeout: 0 });
  });

  it('abandons a submission through its AbortSignal; the job goes on for others', async () => {
    const s = server();
    const client = s.client();
    const controller = new AbortController();
    const mine = await client.submit('later', 'x', { unique: 'shared', signal: controller.signal });
    const theirs = await client.submit('later', 'x', { unique: 'shared' });
    controller.abort(new Error('user left'));
    await expect(mine.result).rejects.toBeInstanceOf(SubmissionAbortedError);
    await expect(lastValueFrom(mine.events$)).rejects.toBeInstanceOf(SubmissionAbortedError);
    s.worker().register('later', () => 'ok');
    expect(await theirs.text()).toBe('ok');
    await expect(
      client.submit('later', 'x', { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(SubmissionAbortedError);
    for (const signal of [null, 42, {}, { aborted: false }]) {
      await expect(
        client.run('later', 'x', { signal: signal as unknown as AbortSignal }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await s.close();
  });

  it('refuses delayed foreground jobs and bad payloads with typed errors', async () => {
    const s = server();
    const client = s.client();
    await expect(client.submit('f', 'x', { delay: 10, background: false })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(client.submit('f', 'x', { delay: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(client.submit('f', 42 as unknown as string)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const delayed = await client.submit('f', 'x', { delay: 60_000 });
    expect(delayed.background).toBe(true);
    expect((await s.jobs())[0]).toMatchObject({ state: 'delayed' });
    await s.close({ timeout: 0 });
  });

  it('refuses a handle that is not a string with INVALID_ARGUMENT, in every look-up', async () => {
    const s = server();
    const client = s.client();
    const lookUps: Record<string, (handle: string) => Promise<unknown>> = {
      status: (h) => s.status(h),
      cancel: (h) => s.cancel(h),
      job: (h) => s.job(h),
      outcome: (h) => s.outcome(h),
      discard: (h) => s.discard(h),
      clientOutcome: (h) => client.outcome(h),
    };
    for (const bad of [42, undefined, { handle: 'H:x:1' }]) {
      for (const [name, lookUp] of Object.entries(lookUps)) {
        await expect(lookUp(bad as unknown as string), name).rejects.toThrow(InvalidArgumentError);
      }
      await expect(s.retry(bad as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(client.status(bad as unknown as string)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    await s.close({ timeout: 0 });
  });

  it('refuses options that are not objects and task sets that are not arrays, and never hangs', async () => {
    const s = server();
    const client = s.client();
    const bad = (value: unknown) => value as never;
    for (const call of [
      () => s.connect(bad(null)),
      () => s.client(bad(null)),
      () => s.worker(bad(42)),
      () => s.worker().register('f', () => 'x', bad(null)),
      () => server({ store: bad({ list: () => [] }) }),
      () => createJobServer(bad(null)),
    ]) {
      expect(call).toThrow(InvalidArgumentError);
    }
    for (const call of [
      () => s.outcomes(bad(null)),
      () => s.outcomeCount(bad(null)),
      () => s.jobs(bad(null)),
      () => s.setMaxQueue('f', bad(null)),
    ]) {
      await expect(call()).rejects.toThrow(InvalidArgumentError);
    }
    expect(() => server({ store: bad({}) })).toThrow(/lacks add, update, remove, list/);
    // Each of these used to throw a TypeError, or (runAll of a non-array) never settle.
    for (const pending of [
      client.submit('f', 'x', bad(null)),
      client.run('f', 'x', bad('fast')),
      client.runAll(bad(42)),
      client.runAll(bad({})),
      client.runAll(bad([undefined])),
      client.submitAll(bad({ length: 1 })),
      client.submitAll(bad([null])),
    ]) {
      await expect(pending).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await s.close({ timeout: 0 });
  });

  it('refuses a registration without a string name or a handler function, at once', async () => {
    const s = server();
    const worker = s.worker();
    const bad = (value: unknown) => value as never;
    expect(() => worker.register(bad(42), () => 'x')).toThrow(InvalidArgumentError);
    expect(() => worker.register('a\0b', () => 'x')).toThrow(InvalidArgumentError);
    expect(() => worker.register('f', bad('not a function'))).toThrow(InvalidArgumentError);
    // Nothing half-registered: the worker goes on, and a good registration works.
    worker.register('f', (job) => job.text().toUpperCase());
    expect((await s.client().run('f', 'ok')).toString()).toBe('OK');
    await s.close({ timeout: 0 });
  });

  it('runs up to `concurrency` jobs of a function at once', async () => {
    const s = server();
    let active = 0;
    let peak = 0;
    s.worker().register(
      'io',
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setImmediate(r));
        active--;
      },
      { concurrency: 3 },
    );
    const client = s.client();
    await Promise.all(Array.from({ length: 10 }, () => client.run('io')));
    expect(peak).toBe(3);
    await s.close();
  });
});

describe('worker lifecycle and policies', () => {
  it('emits the lifecycle in order', async () => {
    const s = server();
    const worker = s.worker({ autorun: false }).register('f', () => 'ok');
    const events: WorkerEvent['type'][] = [];
    worker.events$.subscribe((e) => events.push(e.type));
    worker.start();
    await s.client().run('f');
    await worker.stop();
    expect(events).toEqual([
      'beforeRun',
      'connecting',
      'connected',
      'beforeRegister',
      'afterRegister',
      'idle',
      'waiting',
      'jobReceived',
      'beforeExecute',
      'afterExecute',
      'idle',
      'waiting',
      'afterRun',
    ]);
  });

  it('reports a failure event for a throwing handler', async () => {
    const s = server();
    const worker = s.worker().register('f', () => {
      throw new Error('nope');
    });
    const failures: unknown[] = [];
    worker.events$.subscribe((e) => {
      if (e.type === 'failure') failures.push(e.error);
    });
    await s
      .client()
      .run('f')
      .catch(() => undefined);
    expect(failures).toEqual([new Error('nope')]);
    await s.close();
  });

  it('stops after maxJobs, and the next worker takes the rest', async () => {
    const s = server();
    const first = s.worker({ maxJobs: 2 }).register('f', () => 'first');
    const client = s.client();
    const results = [await client.run('f'), await client.run('f')];
    await first.done;
    const pending = client.run('f');
    s.worker().register('f', () => 'second');
    results.push(await pending);
    expect(results.map(String)).toEqual(['first', 'first', 'second']);
    await s.close();
  });

  it('stops above the memory limit, with the reason logged', async () => {
    const s = server();
    let memory = 100;
    const lines: [string, object, string | undefined][] = [];
    const logger: LoggerLike = {
      debug: (o, m) => lines.push(['debug', o, m]),
      info: (o, m) => lines.push(['info', o, m]),
      warn: (o, m) => lines.push(['warn', o, m]),
      error: (o, m) => lines.push(['error', o, m]),
    };
    const worker = s
      .worker({ memoryLimit: 500, measureMemory: () => memory, logger })
      .register('grow', () => {
        memory += 300;
      });
    const client = s.client();
    await client.run('grow');
    expect(worker.completedJobs).toBe(1);
    await client.run('grow');
    await worker.done;
    expect(lines.at(-1)).toEqual([
      'info',
      { reason: 'memoryLimit', jobsDone: 2 },
      'worker stopped',
    ]);
    expect(lines.some(([level, , m]) => level === 'info' && m === 'job finished')).toBe(true);
    await s.close();
  });
});

describe('server.events$', () => {
  it('reports every job transition', async () => {
    const s = server();
    const types: string[] = [];
    s.events$.subscribe((e) => types.push(e.type));
    const client = s.client();
    const a = await client.submit('f', 'a', { unique: 'u' });
    await client.submit('f', 'a', { unique: 'u' });
    await client.submit('f', 'later', { delay: 1000 });
    const c = await client.submit('f', 'c', { background: true });
    await s.cancel(c.handle);
    s.worker().register('f', (job) => {
      job.status(1, 1);
      return 'ok';
    });
    await a.result;
    await s.close({ timeout: 0 });
    expect(types).toEqual([
      'submitted',
      'coalesced',
      'submitted',
      'delayed',
      'submitted',
      'cancelled',
      'started',
      'progress',
      'completed',
    ]);
  });
});

describe('task sets', () => {
  it('runs a set of foreground jobs and returns the results in order', async () => {
    const s = server();
    s.worker().register(
      'square',
      async (job) => {
        const n = Number(job.text());
        await new Promise((r) => setTimeout(r, (5 - n) * 2)); // finish out of order
        return String(n * n);
      },
      { concurrency: 5 },
    );
    const client = s.client();
    const results = await client.runAll(
      [1, 2, 3, 4, 5].map((n) => ({ functionName: 'square', payload: String(n) })),
    );
    expect(results.map(String)).toEqual(['1', '4', '9', '16', '25']);
    expect(await client.runAll([])).toEqual([]);
    await s.close();
  });

  it('rejects a set with its first failure, and refuses background jobs in runAll', async () => {
    const s = server();
    s.worker().register('maybe', (job) => {
      if (job.text() === 'bad') throw new Error('bad input');
      return 'ok';
    });
    const client = s.client();
    await expect(
      client.runAll([
        { functionName: 'maybe', payload: 'good' },
        { functionName: 'maybe', payload: 'bad' },
      ]),
    ).rejects.toMatchObject({
      code: 'JOB_EXCEPTION',
      message: 'bad input',
      handle: foregroundHandle(2),
    });
    // So does run()'s, whose handle is read only then.
    await expect(client.run('maybe', 'bad')).rejects.toMatchObject({
      handle: foregroundHandle(3),
    });
    await expect(client.runAll([{ functionName: 'maybe', delay: 10 }])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await s.close();
  });

  it('submits a set of background jobs at once, coalescing unique ids within it', async () => {
    const s = server({ maxQueue: 3 });
    const client = s.client();
    const jobs = await client.submitAll([
      { functionName: 'mail', payload: 'a', background: true, unique: 'welcome-7' },
      { functionName: 'mail', payload: 'a', background: true, unique: 'welcome-7' },
      { functionName: 'mail', payload: 'b', background: true, priority: 'high' },
    ]);
    expect(jobs.map((j) => j.coalesced)).toEqual([false, true, false]);
    expect(jobs[0]!.handle).toBe(jobs[1]!.handle);
    expect((await s.functions())[0]).toMatchObject({ total: 2, queued: { high: 1, normal: 1 } });
    await expect(
      client.submitAll([
        { functionName: 'mail', background: true },
        { functionName: 'mail', background: true },
      ]),
    ).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect((await s.functions())[0]?.total).toBe(3);
    await s.close({ timeout: 0 });
  });
});

describe('events for failures and retries', () => {
  it('reports retried and failed transitions', async () => {
    const s = server({ maxRetries: 1 });
    const events: string[] = [];
    s.events$.subscribe((e) => events.push(e.type === 'failed' ? `failed:${e.reason}` : e.type));
    const c = s.connect();
    await submitted(c, { functionName: 'f', background: true });
    for (let i = 0; i < 2; i++) {
      const w = s.connect();
      w.canDo('f');
      expect(await assigned(w)).toBeDefined();
      w.close();
      await settled();
    }
    expect(events).toEqual([
      'submitted',
      'started',
      'retried',
      'started',
      'failed:RETRIES_EXHAUSTED',
    ]);
    await s.close();
  });
});

describe('graceful close', () => {
  it('refuses new work, lets running jobs finish, fails waiting foreground jobs', async () => {
    const s = server();
    let finish!: () => void;
    s.worker().register(
      'slow',
      () => new Promise<string>((resolve) => (finish = () => resolve('finished'))),
    );
    const client = s.client();
    const running = await client.submit('slow');
    await new Promise((r) => setImmediate(r));
    const waiting = await client.submit('other');
    const closed = s.close({ timeout: 60_000 });
    await expect(client.submit('slow')).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
    await expect(waiting.result).rejects.toMatchObject({ reason: 'SHUTDOWN' });
    finish();
    expect(await running.text()).toBe('finished');
    await closed;
    expect(s.closed).toBe(true);
  });
});
