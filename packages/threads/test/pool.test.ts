import {
  createJobServer,
  JobExceptionError,
  JobFailedError,
  type JobServer,
  type JobUpdate,
} from '@geartrain/core';
import { filter, firstValueFrom, lastValueFrom, take, timeout, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attachThreadPool,
  type ThreadEvent,
  type ThreadPool,
  type ThreadPoolOptions,
} from '../src/index.js';

const esm = new URL('./fixtures/handlers.mjs', import.meta.url).pathname;
const cjs = new URL('./fixtures/handlers.cjs', import.meta.url).pathname;
const fn = (name: string, extra: object = {}) => ({ module: esm, export: name, ...extra });

let server: JobServer;
let pool: ThreadPool | undefined;
let flags: Int32Array;
let events: ThreadEvent[];

function start(options: Omit<ThreadPoolOptions, 'workerData'>): ThreadPool {
  server = createJobServer({ maxRetries: 3 });
  const shared = new SharedArrayBuffer(16);
  flags = new Int32Array(shared);
  pool = attachThreadPool(server, { restartDelay: 10, ...options, workerData: shared });
  events = [];
  pool.events$.subscribe((e) => events.push(e));
  return pool;
}

/** `Atomics.waitAsync` (ES2024; TypeScript's lib here is older). */
const waitAsync = (array: Int32Array, index: number, value: number, timeout: number) =>
  (
    Atomics as unknown as {
      waitAsync(a: Int32Array, i: number, v: number, t: number): { value: unknown };
    }
  ).waitAsync(array, index, value, timeout);

/** Waits until flags[index] !== value, at most `timeout` ms (Atomics, not sleeps). */
async function changed(index: number, value: number, timeout = 5000): Promise<number> {
  const deadline = Date.now() + timeout;
  while (Atomics.load(flags, index) === value) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`flag ${index} stayed ${value}`);
    await waitAsync(flags, index, value, left).value;
  }
  return Atomics.load(flags, index);
}

/** The next pool event of `type` (at most 10 s). */
function next<T extends ThreadEvent['type']>(type: T): Promise<Extract<ThreadEvent, { type: T }>> {
  return firstValueFrom(
    pool!.events$.pipe(
      filter((e): e is Extract<ThreadEvent, { type: T }> => e.type === type),
      timeout(10_000),
    ),
  );
}

afterEach(async () => {
  await pool?.close({ timeout: 0 });
  pool = undefined;
  await server?.close({ timeout: 0 });
});

describe('the thread pool', () => {
  it('runs handlers from ESM and CJS modules, and their progress reaches the client', async () => {
    start({
      threads: 2,
      functions: { echo: esm, progress: fn('progress'), shout: { module: cjs, export: 'shout' } },
    });
    const client = server.client();
    expect((await client.run('echo', 'hi')).toString()).toBe('hi');
    expect((await client.run('shout', 'hi')).toString()).toBe('HI');
    const job = await client.submit('progress', 'p');
    const updates = await lastValueFrom(job.events$.pipe(toArray()));
    const seen = updates.map((u: JobUpdate) =>
      u.type === 'status'
        ? `status ${u.numerator}/${u.denominator}`
        : `${u.type} ${'data' in u ? u.data.toString() : ''}`,
    );
    expect(seen.slice(0, 4)).toEqual(['status 1/2', 'data half', 'warning careful', 'status 2/2']);
    expect(
      JSON.parse(updates[4]!.type === 'complete' ? updates[4]!.data.toString() : '{}'),
    ).toMatchObject({ text: 'p' });
    await pool!.ready;
    expect(pool!.stats).toMatchObject({ threads: 2, jobsRun: 3, crashes: 0 });
    expect(events.filter((e) => e.type === 'started')).toHaveLength(2);
  });

  it('keeps to the concurrency limit of a function across its threads', async () => {
    start({ threads: 3, functions: { gated: fn('gated') } });
    await pool!.ready;
    await server.setFunctionLimits('gated', { concurrency: 1 });
    const client = server.client();
    const results = Array.from({ length: 3 }, () => client.run('gated'));
    await changed(0, 0);
    // Two threads are idle and two jobs queued: without the limit a second would start at
    // once. None does while the first is held (Atomics, bounded to 300 ms).
    await expect(changed(0, 1, 300)).rejects.toThrow(/stayed 1/);
    expect((await server.jobs()).map((j) => j.state)).toEqual(['running', 'queued', 'queued']);
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    expect((await Promise.all(results)).map(String)).toEqual(['released', 'released', 'released']);
  });

  it('reports failures and exceptions from a thread as in-process', async () => {
    start({ threads: 1, functions: { fails: fn('fails'), missing: fn('nope') } });
    // A module without the export: the thread cannot load, is reported and retried with back-off.
    const crashed = await next('crashed');
    expect(String(crashed.error)).toMatch(/no function export nope/);
    await expect(pool!.ready).rejects.toThrow(/no function export nope/);
    await pool!.close({ timeout: 0 });
    start({ threads: 1, functions: { fails: fn('fails'), throws: fn('throws') } });
    // A WorkFail is a plain failure; any other error an exception with its message; both
    // count as failures of the pool.
    await expect(server.client().run('fails')).rejects.toMatchObject({ reason: 'WORK_FAIL' });
    const exception = await server
      .client()
      .run('throws')
      .catch((e: unknown) => e);
    expect(exception).toBeInstanceOf(JobExceptionError);
    expect((exception as JobExceptionError).data.toString()).toBe('bad input');
    expect(pool!.stats.failures).toBe(2);
  });

  it("keeps the class name and stack of what a handler threw in a thread in the job's outcome", async () => {
    start({ threads: 1, functions: { fails: fn('fails'), declined: fn('throwsDeclined') } });
    const client = server.client();
    const failed = await client.submit('fails', '', { background: true });
    const declined = await client.submit('declined', '', { background: true });
    const outcomes = server.events$.pipe(
      filter((e) => e.type === 'failed'),
      take(2),
      timeout(5000),
      toArray(),
    );
    await lastValueFrom(outcomes);
    const [fail] = (await server.outcome(failed.handle))!.errors;
    expect(fail).toMatchObject({ reason: 'WORK_FAIL', message: 'not today', name: 'WorkFail' });
    expect(fail!.stack).toMatch(/^WorkFail: not today\n.*handlers\.mjs/s);
    const [exception] = (await server.outcome(declined.handle))!.errors;
    expect(exception).toMatchObject({
      reason: 'EXCEPTION',
      message: 'card declined',
      name: 'CardDeclined',
    });
    // The stack is the thread's, where the handler threw, not the pool's.
    expect(exception!.stack).toMatch(/^Error: card declined\n\s+at throwsDeclined .*handlers\.mjs/);
  });

  it('replaces a thread that crashes mid-job, and the job is retried on the new thread', async () => {
    start({ threads: 1, functions: { crashOnce: fn('crashOnce'), exitOnce: fn('exitOnce') } });
    const client = server.client();
    const result = client.run('crashOnce');
    await changed(0, 0);
    expect((await result).toString()).toMatch(/^thread \d+ attempt 2$/);
    expect(events.map((e) => e.type)).toEqual(['started', 'crashed', 'started', 'restarted']);
    const crashed = events[1] as Extract<ThreadEvent, { type: 'crashed' }>;
    expect(crashed).toMatchObject({ thread: 1, jobs: 1 });
    expect(crashed.error?.message).toBe('boom');
    // process.exit in a handler: the same.
    expect((await client.run('exitOnce')).toString()).toMatch(/^thread \d+$/);
    expect(pool!.stats).toMatchObject({ crashes: 2, restarts: 2, threads: 1 });
  });

  it('stops an infinite loop at its timeout: abort, then terminate and replace the thread', async () => {
    start({
      threads: 1,
      terminateGrace: 100,
      functions: { spin: fn('spin', { timeout: 200 }), whoami: fn('whoami') },
    });
    const client = server.client();
    const before = (await client.run('whoami')).toString();
    const error = await client.run('spin').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).reason).toBe('TIMEOUT');
    const after = (await client.run('whoami')).toString();
    expect(after).not.toBe(before);
    expect(events.some((e) => e.type === 'recycled' && e.reason === 'timeout')).toBe(true);
  });

  it('recycles a thread whose heap grows past the limit, and after a number of jobs', async () => {
    start({ threads: 1, maxHeapBytes: 40 * 1024 * 1024, functions: { hog: fn('hog') } });
    const client = server.client();
    const threads = new Set<string>();
    for (let i = 0; i < 6; i++) threads.add((await client.run('hog')).toString());
    expect(threads.size).toBeGreaterThan(1);
    expect(events.some((e) => e.type === 'recycled' && e.reason === 'heap')).toBe(true);
    await pool!.close({ timeout: 0 });

    start({ threads: 1, maxJobsPerThread: 3, functions: { whoami: fn('whoami') } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await server.client().run('whoami')).toString());
    expect(new Set(ids.slice(0, 3)).size).toBe(1);
    expect(new Set(ids.slice(3)).size).toBe(1);
    expect(ids[3]).not.toBe(ids[0]);
    expect(
      events.filter((e) => e.type === 'recycled' && e.reason === 'jobs').length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('replaces a thread that runs out of memory under resourceLimits', async () => {
    start({
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
      functions: { oom: fn('oom'), whoami: fn('whoami') },
    });
    const client = server.client();
    const before = (await client.run('whoami')).toString();
    const crash = next('crashed');
    const restarted = next('restarted');
    void client.run('oom').catch(() => undefined);
    const crashed = await crash;
    expect((crashed.error as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    await server.cancel((await server.jobs())[0]!.handle);
    expect(await restarted).toMatchObject({ replaces: crashed.thread });
    // The next job runs on the replacement: another thread id than the one that died.
    const after = (await client.run('whoami')).toString();
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);
  });

  it('recycles a thread after maxThreadAge', async () => {
    start({ threads: 1, maxThreadAge: 100, functions: { whoami: fn('whoami') } });
    const client = server.client();
    const recycled = next('recycled');
    const exited = next('exited');
    const first = (await client.run('whoami')).toString();
    expect(await recycled).toMatchObject({ reason: 'age', thread: 1 });
    await exited;
    expect((await client.run('whoami')).toString()).not.toBe(first);
  });

  it('moves a large result out of the thread without a copy (its ArrayBuffer is detached)', async () => {
    start({ threads: 1, functions: { big: fn('big') } });
    const result = await server.client().run('big');
    expect(result.length).toBe(8 << 20);
    expect(result[12345]).toBe(7);
    expect(await changed(2, 0)).toBe(1);
  });

  it('shuts down gracefully: running jobs finish, those past the deadline are aborted and requeued', async () => {
    start({ threads: 2, functions: { gated: fn('gated'), abortable: fn('abortable') } });
    const client = server.client();
    const finishing = client.run('gated');
    const stuck = await client.submit('abortable', '', { background: true });
    await changed(0, 0);
    if (Atomics.load(flags, 0) < 2) await changed(0, 1);
    const closed = pool!.close({ timeout: 300 });
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    expect((await finishing).toString()).toBe('released');
    await closed;
    expect(pool!.stats.threads).toBe(0);
    expect(events.filter((e) => e.type === 'exited')).toHaveLength(2);
    // The job that did not finish went back to the queue for another worker.
    expect(await server.status(stuck.handle)).toMatchObject({ known: true, running: false });
  });
});

describe('the pool’s options and the workers it closes', () => {
  const bad = (value: unknown) => value as never;

  it('refuses keys it does not know, in its options, a function and close, with INVALID_ARGUMENT', async () => {
    const s = createJobServer();
    const refusals = [
      () => attachThreadPool(s, bad({ function: { echo: esm } })),
      () => attachThreadPool(s, bad({ functions: { echo: esm }, thread: 1 })),
      () => attachThreadPool(s, bad({ functions: { echo: { module: esm, exprot: 'x' } } })),
      () => attachThreadPool(s, bad(undefined)),
    ];
    const messages = refusals.map((call) => {
      try {
        call();
      } catch (error) {
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
        return (error as Error).message;
      }
      throw new Error('accepted');
    });
    expect(messages.slice(0, 3)).toEqual([
      "unknown option 'function' in pool options (did you mean 'functions'?)",
      "unknown option 'thread' in pool options (did you mean 'threads'?)",
      "unknown option 'exprot' in functions.echo (did you mean 'export'?)",
    ]);
    start({ threads: 1, functions: { echo: esm } });
    await expect(pool!.close(bad({ timout: 0 }))).rejects.toThrow(/did you mean 'timeout'\?/);
    await s.close({ timeout: 0 });
  });

  it('closes a worker that has only the old name, stop', async () => {
    server = createJobServer();
    const stopped: number[] = [];
    pool = attachThreadPool(
      () => {
        const worker = server.worker();
        // A worker written against the old PoolWorker: `register` and `stop`, no `close`.
        return bad({
          register: worker.register.bind(worker),
          stop: (options?: { timeout?: number }) => {
            stopped.push(options?.timeout ?? -1);
            return worker.close(options);
          },
        });
      },
      { threads: 1, functions: { echo: esm } },
    );
    expect((await server.client().run('echo', 'hi')).toString()).toBe('hi');
    await pool.close({ timeout: 5 });
    // Closed with the pool's timeout, then at once when its thread has exited (as ever).
    expect(stopped).toEqual([5, 0]);
  });
});
