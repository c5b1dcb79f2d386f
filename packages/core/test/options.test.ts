import { describe, expect, it } from 'vitest';
import { createJobServer, InvalidArgumentError, type JobServer } from '../src/index.js';
import { server } from './helpers.js';

// What a JavaScript caller (or a config file) can pass that the types would refuse: a
// priority that is not one of the three, and keys that no options object has (decision 31).

const bad = (value: unknown) => value as never;

/** The refusal of `call`, synchronous or a rejection. */
async function refusal(call: () => unknown): Promise<InvalidArgumentError> {
  let outcome: unknown;
  try {
    outcome = await call();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    return error as InvalidArgumentError;
  }
  throw new Error(`accepted: ${String(outcome)}`);
}

/** Nothing was queued, and no function entry was made for what was refused. */
async function untouched(s: JobServer): Promise<void> {
  expect(await s.jobs()).toEqual([]);
  expect(await s.functions()).toEqual([]);
}

describe('priorities', () => {
  it('refuses a priority that is not high, normal or low, in every way of submitting', async () => {
    const s = server();
    const client = s.client();
    const connection = s.connect();
    for (const priority of ['urgent', 'HIGH', 'low ', 3, null, '']) {
      const p = bad(priority);
      const calls = {
        submit: () => client.submit('f', 'x', { priority: p }),
        background: () => client.submit('f', 'x', { priority: p, background: true }),
        run: () => client.run('f', 'x', { priority: p }),
        submitAll: () => client.submitAll([{ functionName: 'f', priority: p }]),
        runAll: () => client.runAll([{ functionName: 'f', priority: p }]),
        connection: () => connection.submit({ functionName: 'f', priority: p }),
      };
      for (const [name, call] of Object.entries(calls)) {
        const error = await refusal(call);
        expect(error.message, name).toMatch(/^priority must be 'high', 'normal' or 'low', not /);
      }
      await untouched(s);
    }
    expect(
      (await refusal(() => client.submit('f', 'x', { priority: bad('urgent') }))).message,
    ).toBe("priority must be 'high', 'normal' or 'low', not 'urgent'");
    await s.close({ timeout: 0 });
  });

  it('queues each of the three at its own level', async () => {
    const s = server();
    const client = s.client();
    for (const priority of ['low', 'high', 'normal', undefined] as const) {
      await client.submit('f', String(priority), { priority, background: true });
    }
    // Next first: the queue order says where each went.
    expect((await s.jobs({ state: 'queued' })).map((j) => [j.priority, j.functionName])).toEqual([
      ['high', 'f'],
      ['normal', 'f'],
      ['normal', 'f'],
      ['low', 'f'],
    ]);
    await s.close({ timeout: 0 });
  });
});

describe('unknown options', () => {
  it('refuses a key submit does not know, with a did-you-mean, and queues nothing', async () => {
    const s = server();
    const client = s.client();
    const error = await refusal(() => client.submit('f', 'x', bad({ delai: 5 })));
    expect(error.message).toBe("unknown option 'delai' in submit options (did you mean 'delay'?)");
    // Without a near name, the known ones are listed.
    expect((await refusal(() => client.run('f', 'x', bad({ colour: 'red' })))).message).toBe(
      "unknown option 'colour' in submit options (known: priority, unique, background, runAt, delay, signal, attempts, backoff, transaction)",
    );
    // Case and swapped letters count as near.
    expect((await refusal(() => client.submit('f', 'x', bad({ Unique: 'u' })))).message).toMatch(
      /did you mean 'unique'\?/,
    );
    expect(
      (await refusal(() => client.submit('f', 'x', bad({ backgruond: true })))).message,
    ).toMatch(/did you mean 'background'\?/);
    await untouched(s);
    await s.close({ timeout: 0 });
  });

  it('refuses unknown keys in task sets, named as a task', async () => {
    const s = server();
    const client = s.client();
    for (const call of [
      () => client.submitAll([{ functionName: 'f', delai: 5 } as never]),
      () => client.runAll([{ functionName: 'f', priorty: 'low' } as never]),
      () => client.runAll([{ function: 'f' } as never]),
    ]) {
      expect((await refusal(call)).message).toMatch(/^unknown option '\w+' in a task \(/);
    }
    // A task's signal is not an option of task sets (a set has no single submission to abort).
    expect(
      (await refusal(() => client.submitAll([bad({ functionName: 'f', signal: 1 })]))).message,
    ).toMatch(/unknown option 'signal' in a task/);
    await untouched(s);
    await s.close({ timeout: 0 });
  });

  it('refuses unknown keys in every options object of the server, client and worker', async () => {
    const s = server();
    const worker = s.worker({ autorun: false });
    const calls: Record<string, [() => unknown, string]> = {
      createJobServer: [() => createJobServer(bad({ schedular: null })), 'scheduler'],
      maxQueue: [() => createJobServer({ maxQueue: bad({ hihg: 1 }) }), 'high'],
      keep: [() => createJobServer({ keep: bad({ failled: {} }) }), 'failed'],
      client: [() => s.client(bad({ exception: false })), 'exceptions'],
      worker: [() => s.worker(bad({ maxJob: 3 })), 'maxJobs'],
      register: [() => worker.register('f', () => 'x', bad({ concurency: 2 })), 'concurrency'],
      connect: [() => s.connect(bad({ adress: 'x' })), 'address'],
      canDo: [() => s.connect().canDo('f', bad({ timout: 5 })), 'timeout'],
      outcomes: [() => s.outcomes(bad({ functionNmae: 'f' })), 'functionName'],
      outcomeCount: [() => s.outcomeCount(bad({ sate: 'failed' })), 'state'],
      jobs: [() => s.jobs(bad({ limt: 1 })), 'limit'],
      setMaxQueue: [() => s.setMaxQueue('f', bad({ normall: 1 })), 'normal'],
      schedule: [
        () => s.schedule('s', bad({ functionName: 'f', every: 1000, catchup: 'none' })),
        'catchUp',
      ],
      limits: [() => s.setFunctionLimits('f', bad({ concurency: 1 })), 'concurrency'],
      rate: [() => s.setFunctionLimits('f', { rate: bad({ max: 1, duraton: 10 }) }), 'duration'],
      workerClose: [() => worker.close(bad({ timout: 0 })), 'timeout'],
      workerStop: [() => worker.stop(bad({ reson: 'x' })), 'reason'],
      serverClose: [() => s.close(bad({ timeuot: 0 })), 'timeout'],
    };
    for (const [name, [call, meant]] of Object.entries(calls)) {
      const error = await refusal(call);
      expect(error.message, name).toMatch(new RegExp(`did you mean '${meant}'\\?\\)$`));
    }
    // None of the refusals closed anything or left anything behind.
    expect(s.closed).toBe(false);
    expect(await s.schedules()).toEqual([]);
    expect(await s.controls()).toEqual([]);
    worker.register('f', (job) => job.text());
    worker.start();
    expect((await s.client().run('f', 'still works')).toString()).toBe('still works');
    await s.close({ timeout: 0 });
  });

  it('accepts every key its type has', async () => {
    const s = createJobServer({
      scheduler: undefined,
      handlePrefix: 'H:t',
      maxRetries: 3,
      maxQueue: { high: 0, normal: 0, low: 0 },
      maxUniqueLength: 64,
      store: null,
      workerWakeup: 1,
      wakeTimeout: 100,
      exceptions: false,
      logger: undefined,
      jobPolicies: {},
      random: Math.random,
      keep: { completed: { count: 0, age: 1 }, failed: { count: 1 } },
      outcomeDataLimit: 10,
      releaseMemory: false,
    });
    const client = s.client({ exceptions: true });
    const job = await client.submit('f', 'x', {
      priority: 'low',
      unique: 'u',
      background: true,
      runAt: undefined,
      delay: 10,
      signal: undefined,
      attempts: 2,
      backoff: { type: 'fixed', delay: 1, max: 1, jitter: 0 },
    });
    expect(await s.job(job.handle)).toMatchObject({ state: 'delayed', priority: 'low' });
    await s.close({ timeout: 0 });
  });
});

describe('task sets take what submit takes', () => {
  it('runAll retries a task with its own attempts (they used to be dropped)', async () => {
    const s = server();
    let calls = 0;
    s.worker().register('flaky', (job) => {
      if (++calls === 1) throw new Error('first attempt fails');
      return `${job.text()} on attempt ${job.attempt}`;
    });
    const results = await s
      .client()
      .runAll([{ functionName: 'flaky', payload: 'x', attempts: 2, backoff: 0 }]);
    expect(results.map(String)).toEqual(['x on attempt 2']);
    await s.close({ timeout: 0 });
  });
});

describe('names', () => {
  it('a worker ends with close(), as the server and client do; stop() is its deprecated alias', async () => {
    for (const end of ['close', 'stop'] as const) {
      const s = server();
      const worker = s.worker();
      worker.register('f', (job) => job.text());
      expect((await s.client().run('f', 'x')).toString()).toBe('x');
      const reasons: string[] = [];
      worker.events$.subscribe((e) => e.type === 'afterRun' && reasons.push(e.reason));
      await (end === 'close' ? worker.close({ reason: end }) : worker.stop({ reason: end }));
      expect(reasons).toEqual([end]);
      // Closed for good: registering again is refused, and close is idempotent.
      expect(() => worker.register('g', () => 'y')).toThrow(/closed/);
      await worker.close();
      await s.close({ timeout: 0 });
    }
  });
});
