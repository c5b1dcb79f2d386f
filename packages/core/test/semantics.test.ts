import { describe, expect, it } from 'vitest';
import {
  FunctionBusyError,
  FunctionNotFoundError,
  InvalidArgumentError,
  JobNotFoundError,
  MemoryJobStore,
  QueueFullError,
  UniqueTooLargeError,
} from '../src/index.js';
import {
  assigned,
  foregroundHandle,
  grabbed,
  localOnly,
  NEEDS_STORE,
  recorder,
  server,
  settled,
  submit,
  submitted,
  workerConnection,
  SYNCHRONOUS,
} from './helpers.js';

// Each case runs on the local queue and on a shared queue (vitest.config.ts, core-shared).
// Where a shared queue answers after a round trip, a case awaits the answer (`submitted`,
// `assigned`, `settled`) before it asserts what the local queue shows at once.

/** A foreground and a background submission coalesce on the local queue only. */
/** The "-" unique id coalesces by payload on the local queue only. */
const BY_PAYLOAD = "a shared queue refuses the unique id '-' (it does not coalesce by payload)";

describe('handles (reference §3.1)', () => {
  localOnly(SYNCHRONOUS)('counts from 1 and only new jobs consume numbers', async () => {
    const s = server();
    const c = s.connect();
    expect(submit(c, { functionName: 'f', payload: 'a', unique: 'u' }).handle).toBe(
      foregroundHandle(1),
    );
    expect(submit(c, { functionName: 'f', payload: 'b', unique: 'u' })).toEqual({
      handle: foregroundHandle(1),
      coalesced: true,
    });
    await s.setMaxQueue('f', 1);
    expect(() => submit(c, { functionName: 'f', payload: 'c' })).toThrow(QueueFullError);
    await s.setMaxQueue('f', 0);
    expect(submit(c, { functionName: 'f', payload: 'd' }).handle).toBe(foregroundHandle(2));
  });

  it('finds a job by its whole handle only, the prefix included', async () => {
    const s = server();
    const { handle } = await submitted(s.connect(), { functionName: 'f', background: true });
    expect(handle).toBe('H:t:1');
    expect(await s.status(handle)).toMatchObject({ known: true, running: false });
    for (const other of ['H:u:1', 'H:t:01', 'H:t:x:1', 'H:1', ':1', 'H:tt:1', 'h:t:1', 'H:t:1 ']) {
      expect(await s.status(other), other).toMatchObject({ known: false });
    }
  });
});

describe('dispatch order (reference §3.3)', () => {
  it('runs HIGH before NORMAL before LOW, FIFO within a priority', async () => {
    const s = server();
    const c = s.connect();
    for (const [payload, priority] of [
      ['L1', 'low'],
      ['N1', 'normal'],
      ['H1', 'high'],
      ['L2', 'low'],
      ['N2', 'normal'],
      ['H2', 'high'],
    ] as const) {
      await submitted(c, { functionName: 'f', payload, priority, background: true });
    }
    const w = workerConnection(s, 'f');
    const order = [];
    for (let job = await grabbed(w.connection); job; job = await grabbed(w.connection)) {
      order.push(job.payload);
    }
    expect(order).toEqual(['H1', 'H2', 'N1', 'N2', 'L1', 'L2']);
  });

  it('applies priority across all of a worker’s functions, and rotates functions fairly', async () => {
    const s = server();
    const c = s.connect();
    for (const fn of ['fa', 'fb', 'fc']) {
      for (let i = 1; i <= 2; i++)
        await submitted(c, { functionName: fn, payload: `${fn}${i}`, background: true });
    }
    await submitted(c, {
      functionName: 'fc',
      payload: 'fc-high',
      priority: 'high',
      background: true,
    });
    const w = workerConnection(s, 'fa', 'fb', 'fc');
    const order = [];
    for (let job = await grabbed(w.connection); job; job = await grabbed(w.connection)) {
      order.push(job.payload);
    }
    expect(order).toEqual(['fc-high', 'fa1', 'fb1', 'fc1', 'fa2', 'fb2', 'fc2']);
  });

  it('does not let a busy function starve another one', async () => {
    const s = server();
    const c = s.connect();
    for (let i = 0; i < 100; i++)
      await submitted(c, { functionName: 'busy', payload: `b${i}`, background: true });
    await submitted(c, { functionName: 'quiet', payload: 'q', background: true });
    const w = workerConnection(s, 'busy', 'quiet');
    const firstTwo = [
      (await grabbed(w.connection))?.payload,
      (await grabbed(w.connection))?.payload,
    ];
    expect(firstTwo).toContain('q');
  });
});

describe('coalescing by unique id (reference §3.2)', () => {
  localOnly(SYNCHRONOUS)(
    'delivers every later update to every attached foreground submission',
    async () => {
      const s = server();
      const a = recorder();
      const b = recorder();
      const c1 = s.connect();
      const c2 = s.connect();
      const first = submit(c1, { functionName: 'f', payload: 'x', unique: 'same' }, a);
      submit(c2, { functionName: 'f', payload: 'y', unique: 'same', background: true });
      const w = workerConnection(s, 'f');
      const job = w.connection.grab()!;
      expect(job.payload.toString()).toBe('x');
      w.connection.workData(job.handle, 'part');
      // A late joiner of a running job gets only what follows.
      const third = submit(
        c2,
        { functionName: 'f', payload: 'z', unique: 'same', priority: 'low' },
        b,
      );
      expect(third).toEqual({ handle: first.handle, coalesced: true });
      w.connection.workComplete(job.handle, 'done');
      expect(a.types()).toEqual(['data', 'complete']);
      expect(b.types()).toEqual(['complete']);
      expect((await s.status(first.handle)).known).toBe(false);
    },
  );

  localOnly(SYNCHRONOUS)(
    'delivers twice to a connection that submitted the same unique twice',
    () => {
      const s = server();
      const c = s.connect();
      const r1 = recorder();
      const r2 = recorder();
      submit(c, { functionName: 'f', unique: 'u' }, r1);
      submit(c, { functionName: 'f', unique: 'u' }, r2);
      const w = workerConnection(s, 'f');
      w.connection.workComplete(w.connection.grab()!.handle, 'r');
      expect([r1.types(), r2.types()]).toEqual([['complete'], ['complete']]);
    },
  );

  localOnly(SYNCHRONOUS)(
    'never coalesces an empty unique, keys by function, and frees the unique at the end',
    () => {
      const s = server();
      const c = s.connect();
      const a = submit(c, { functionName: 'f', payload: 'p' });
      const b = submit(c, { functionName: 'f', payload: 'p' });
      expect(a.handle).not.toBe(b.handle);
      const u1 = submit(c, { functionName: 'f', unique: 'u' });
      const u2 = submit(c, { functionName: 'g', unique: 'u' });
      expect(u1.handle).not.toBe(u2.handle);
      const w = workerConnection(s, 'g');
      w.connection.workComplete(w.connection.grab()!.handle);
      expect(submit(c, { functionName: 'g', unique: 'u' }).coalesced).toBe(false);
    },
  );

  localOnly(BY_PAYLOAD)('coalesces the "-" unique by payload, small and large', async () => {
    const s = server();
    const c = s.connect();
    const big = Buffer.alloc(1000, 7);
    const a = submit(c, { functionName: 'f', unique: '-', payload: 'same', background: true });
    expect(submit(c, { functionName: 'f', unique: '-', payload: 'same' }).handle).toBe(a.handle);
    expect(submit(c, { functionName: 'f', unique: '-', payload: 'other' }).handle).not.toBe(
      a.handle,
    );
    const l = submit(c, { functionName: 'f', unique: '-', payload: big, background: true });
    expect(submit(c, { functionName: 'f', unique: '-', payload: Buffer.from(big) }).handle).toBe(
      l.handle,
    );
    expect((await s.statusByUnique('-')).known).toBe(false);
  });
});

describe('status (reference §3.8)', () => {
  it('reports unknown, queued, running with progress, then unknown again', async () => {
    const s = server();
    const c = s.connect();
    expect(await s.status('H:t:99')).toEqual({
      known: false,
      running: false,
      numerator: 0,
      denominator: 0,
    });
    expect(await s.status('garbage')).toEqual({
      known: false,
      running: false,
      numerator: 0,
      denominator: 0,
    });
    const { handle } = await submitted(c, { functionName: 'f', unique: 'u', background: true });
    expect(await c.status(handle)).toEqual({
      known: true,
      running: false,
      numerator: 0,
      denominator: 0,
    });
    const w = workerConnection(s, 'f');
    await assigned(w.connection);
    w.connection.workStatus(handle, 3, 14);
    await settled();
    expect(await c.status(handle)).toEqual({
      known: true,
      running: true,
      numerator: 3,
      denominator: 14,
    });
    expect(await c.statusByUnique('u')).toEqual({
      known: true,
      running: true,
      numerator: 3,
      denominator: 14,
      clientCount: 0,
      handle,
    });
    w.connection.workComplete(handle);
    await settled();
    expect((await c.status(handle)).known).toBe(false);
  });

  localOnly(SYNCHRONOUS)(
    'counts attached submissions and answers exactly when given the function',
    async () => {
      const s = server();
      const c = s.connect();
      submit(c, { functionName: 'f', unique: 'same' }, recorder());
      submit(c, { functionName: 'f', unique: 'same' }, recorder());
      const g = await submitted(c, { functionName: 'g', unique: 'same', background: true });
      expect((await c.statusByUnique('same', 'f')).clientCount).toBe(2);
      expect(await c.statusByUnique('same', 'g')).toMatchObject({
        known: true,
        clientCount: 0,
        handle: g.handle,
      });
      expect(await c.statusByUnique('nope')).toMatchObject({ known: false, clientCount: 0 });
    },
  );
});

describe('results and exceptions (reference §3.7)', () => {
  localOnly(SYNCHRONOUS)(
    'sends exceptions only to submissions that asked, a failure to the others',
    () => {
      const s = server();
      const c = s.connect();
      const wants = recorder(true);
      const plain = recorder(false);
      submit(c, { functionName: 'f', unique: 'u' }, wants);
      submit(c, { functionName: 'f', unique: 'u' }, plain);
      const w = workerConnection(s, 'f');
      w.connection.workException(w.connection.grab()!.handle, 'boom');
      expect(wants.updates).toEqual([{ type: 'exception', data: Buffer.from('boom') }]);
      expect(plain.updates).toEqual([{ type: 'fail', reason: 'EXCEPTION' }]);
    },
  );

  localOnly(SYNCHRONOUS)('forwards data, warnings, status, then the result', () => {
    const s = server();
    const c = s.connect();
    const r = recorder();
    submit(c, { functionName: 'f' }, r);
    const w = workerConnection(s, 'f');
    const { handle } = w.connection.grab()!;
    w.connection.workData(handle, 'd');
    w.connection.workWarning(handle, 'w');
    w.connection.workStatus(handle, 1, 2);
    w.connection.workFail(handle);
    expect(r.updates).toEqual([
      { type: 'data', data: Buffer.from('d') },
      { type: 'warning', data: Buffer.from('w') },
      { type: 'status', numerator: 1, denominator: 2 },
      { type: 'fail', reason: 'WORK_FAIL' },
    ]);
  });

  localOnly(SYNCHRONOUS)('refuses results for jobs the connection does not hold', () => {
    const s = server();
    const c = s.connect();
    const { handle } = submit(c, { functionName: 'f' }, recorder());
    const w1 = workerConnection(s, 'f');
    const w2 = workerConnection(s, 'f');
    expect(() => w2.connection.workComplete(handle)).toThrow(JobNotFoundError);
    w1.connection.grab();
    expect(() => w2.connection.workComplete(handle, 'x')).toThrow(JobNotFoundError);
    expect(() => w2.connection.workData(handle, 'x')).toThrow(JobNotFoundError);
    w1.connection.workComplete(handle, 'ok');
    expect(() => w1.connection.workComplete(handle, 'again')).toThrow(JobNotFoundError);
  });
});

describe('worker loss and retries (reference §3.5)', () => {
  localOnly(SYNCHRONOUS)(
    'puts a lost job back at the front of its queue and counts the retry',
    async () => {
      const s = server();
      const c = s.connect();
      const r = recorder();
      const first = submit(c, { functionName: 'f', payload: 'first' }, r);
      await submitted(c, { functionName: 'f', payload: 'second', background: true });
      const w1 = workerConnection(s, 'f');
      await assigned(w1.connection);
      w1.connection.workStatus(first.handle, 1, 2);
      w1.connection.close();
      expect(await s.status(first.handle)).toEqual({
        known: true,
        running: false,
        numerator: 0,
        denominator: 0,
      });
      expect((await s.jobs()).find((j) => j.handle === first.handle)?.retries).toBe(1);
      const w2 = workerConnection(s, 'f');
      const again = (await assigned(w2.connection))!;
      expect([again.handle, again.attempt]).toEqual([first.handle, 2]);
      w2.connection.workComplete(again.handle, 'ok');
      expect(r.types()).toEqual(['status', 'complete']);
    },
  );

  localOnly(SYNCHRONOUS)('fails the job for every attached client after maxRetries', async () => {
    const s = server({ maxRetries: 1 });
    const c = s.connect();
    const r = recorder();
    submit(c, { functionName: 'f' }, r);
    for (let i = 0; i < 2; i++) {
      const w = workerConnection(s, 'f');
      expect(w.connection.grab()).toBeDefined();
      w.connection.close();
    }
    expect(r.updates).toEqual([{ type: 'fail', reason: 'RETRIES_EXHAUSTED' }]);
    expect(await s.jobs()).toEqual([]);
  });

  it('requeues on CANT_DO and RESET_ABILITIES of the holder', async () => {
    const s = server();
    const c = s.connect();
    await submitted(c, { functionName: 'f', background: true });
    await submitted(c, { functionName: 'g', background: true });
    const w = workerConnection(s, 'f', 'g');
    await assigned(w.connection);
    await assigned(w.connection);
    w.connection.cantDo('f');
    await settled();
    expect((await s.functions()).find((f) => f.functionName === 'f')).toMatchObject({
      running: 0,
      workers: 0,
    });
    w.connection.resetAbilities();
    await settled();
    expect((await s.functions()).map((f) => [f.functionName, f.running, f.queued.normal])).toEqual([
      ['f', 0, 1],
      ['g', 0, 1],
    ]);
  });
});

describe('waking sleeping workers (reference §3.4)', () => {
  it('wakes one sleeper per queued job, never more', async () => {
    const s = server();
    const sleepers = [1, 2, 3].map(() => workerConnection(s, 'f'));
    for (const w of sleepers) w.connection.preSleep();
    const c = s.connect();
    await submitted(c, { functionName: 'f', background: true });
    await settled();
    expect(sleepers.map((w) => w.wakes)).toEqual([1, 0, 0]);
    await submitted(c, { functionName: 'f', background: true });
    await settled();
    expect(sleepers.map((w) => w.wakes)).toEqual([1, 1, 0]);
  });

  it('wakes at once on PRE_SLEEP when work is waiting, and never wakes non-sleepers', async () => {
    const s = server();
    const c = s.connect();
    const never = workerConnection(s, 'f');
    await submitted(c, { functionName: 'f', background: true });
    await settled();
    expect(never.wakes).toBe(0);
    const w = workerConnection(s, 'f');
    w.connection.preSleep();
    await settled();
    expect(w.wakes).toBe(1);
    expect(never.wakes).toBe(0);
  });

  it('wakes another sleeper when the woken one took a different job', async () => {
    const s = server();
    const c = s.connect();
    const both = workerConnection(s, 'f', 'g');
    const onlyF = workerConnection(s, 'f');
    both.connection.preSleep();
    onlyF.connection.preSleep();
    await submitted(c, { functionName: 'f', background: true });
    await settled();
    expect([both.wakes, onlyF.wakes]).toEqual([1, 0]);
    const g = await submitted(c, { functionName: 'g', background: true, priority: 'high' });
    await settled();
    // The woken worker takes the HIGH g job; f's job still needs a worker.
    expect((await grabbed(both.connection))?.handle).toBe(g.handle);
    await settled();
    expect(onlyF.wakes).toBe(1);
  });
});

describe('queue limits (reference §3.14)', () => {
  localOnly(
    "a function's own queue limit (setMaxQueue) bounds this node's foreground jobs only: a shared queue's backend has none yet",
  )(
    'rejects when the function holds as many jobs as the priority allows, all priorities counted',
    async () => {
      const s = server();
      const c = s.connect();
      submit(c, { functionName: 'f', priority: 'low', background: true });
      await s.setMaxQueue('f', { high: 5, normal: 3, low: 1 });
      expect(() => submit(c, { functionName: 'f', priority: 'low', background: true })).toThrow(
        QueueFullError,
      );
      submit(c, { functionName: 'f', background: true });
      submit(c, { functionName: 'f', background: true, unique: 'u' });
      expect(() => submit(c, { functionName: 'f', background: true })).toThrow(QueueFullError);
      // A coalesced submission is not a new job and is not limited.
      expect(submit(c, { functionName: 'f', background: true, unique: 'u' }).coalesced).toBe(true);
      submit(c, { functionName: 'f', priority: 'high', background: true });
      submit(c, { functionName: 'f', priority: 'high', background: true });
      expect(() => submit(c, { functionName: 'f', priority: 'high', background: true })).toThrow(
        QueueFullError,
      );
      expect(await s.setMaxQueue('unknown', 1)).toBe(false);
    },
  );

  it('applies a server-wide default limit to new functions', async () => {
    const s = server({ maxQueue: 2 });
    const c = s.connect();
    await submitted(c, { functionName: 'f', background: true });
    await submitted(c, { functionName: 'f', background: true });
    await expect(submitted(c, { functionName: 'f', background: true })).rejects.toThrow(
      QueueFullError,
    );
  });
});

describe('cancel (reference §3.12, fixed)', () => {
  localOnly(SYNCHRONOUS)(
    'removes a queued job at once: clients told, unique freed, unknown to status',
    async () => {
      const s = server();
      const c = s.connect();
      const r = recorder();
      const { handle } = submit(c, { functionName: 'f', unique: 'u' }, r);
      expect(await s.cancel(handle)).toBe(true);
      expect(r.updates).toEqual([{ type: 'fail', reason: 'CANCELLED' }]);
      expect((await s.status(handle)).known).toBe(false);
      expect(submit(c, { functionName: 'f', unique: 'u' }).coalesced).toBe(false);
      expect(await s.cancel(handle)).toBe(false);
    },
  );

  localOnly(SYNCHRONOUS)(
    'revokes a running job from its worker, whose late result is refused',
    async () => {
      const s = server();
      const c = s.connect();
      const r = recorder();
      const { handle } = submit(c, { functionName: 'f' }, r);
      const w = workerConnection(s, 'f');
      w.connection.grab();
      await s.cancel(handle);
      expect(w.revoked).toEqual([[handle, 'CANCELLED']]);
      expect(() => w.connection.workComplete(handle, 'late')).toThrow(JobNotFoundError);
      expect(r.types()).toEqual(['fail']);
    },
  );
});

describe('functions (reference §4.2)', () => {
  localOnly(
    "createFunction and dropFunction act on this node's functions: a shared queue's backend has no function table to drop from yet",
  )('creates, lists and drops functions; refuses to drop one in use', async () => {
    const s = server();
    await s.createFunction('made');
    expect(await s.functions()).toEqual([
      {
        functionName: 'made',
        total: 0,
        running: 0,
        workers: 0,
        queued: { high: 0, normal: 0, low: 0 },
        delayed: 0,
        counts: {
          submitted: 0,
          coalesced: 0,
          completed: 0,
          failed: 0,
          cancelled: 0,
          retried: 0,
          requeued: 0,
        },
      },
    ]);
    const c = s.connect();
    const { handle } = submit(c, { functionName: 'busy', background: true });
    await expect(s.dropFunction('busy')).rejects.toThrow(FunctionBusyError);
    await s.cancel(handle);
    expect((await s.functions()).find((f) => f.functionName === 'busy')?.counts).toMatchObject({
      submitted: 1,
      cancelled: 1,
    });
    const w = workerConnection(s, 'busy');
    await expect(s.dropFunction('busy')).rejects.toThrow(FunctionBusyError);
    w.connection.close();
    await s.dropFunction('busy');
    await s.dropFunction('made');
    await expect(s.dropFunction('made')).rejects.toThrow(FunctionNotFoundError);
    expect(await s.functions()).toEqual([]);
  });

  it('keeps functions listed after their last job and worker', async () => {
    const s = server();
    const w = workerConnection(s, 'f');
    w.connection.close();
    expect((await s.functions()).map((f) => f.functionName)).toEqual(['f']);
  });
});

describe('admin data', () => {
  localOnly(NEEDS_STORE)('lists connections, jobs and unique ids', async () => {
    const s = server({ store: new MemoryJobStore() });
    const c = s.connect({ address: '127.0.0.1' });
    c.clientId = 'submitter';
    const w = workerConnection(s, 'a', 'b');
    submit(c, { functionName: 'a', unique: 'ua', background: true });
    submit(c, { functionName: 'b' }, recorder());
    w.connection.grab();
    expect(s.connections()).toEqual([
      { id: c.id, address: '127.0.0.1', clientId: 'submitter', functions: [] },
      { id: w.connection.id, address: 'in-process', clientId: '-', functions: ['b', 'a'] },
    ]);
    expect((await s.jobs()).map((j) => [j.handle, j.state, j.persisted, j.background])).toEqual([
      ['H:t:1', 'running', true, true],
      ['H:t:2', 'queued', false, false],
    ]);
    expect(await s.uniqueJobs()).toEqual(['ua', '']);
    expect(
      (await s.functions()).map((f) => [f.functionName, f.total, f.running, f.workers]),
    ).toEqual([
      ['a', 1, 1, 1],
      ['b', 1, 0, 1],
    ]);
  });
});

describe('client disconnects (reference §3.5, fixed)', () => {
  localOnly(SYNCHRONOUS)('drops a queued foreground job nobody waits for', async () => {
    const s = server();
    const c = s.connect();
    const { handle } = submit(c, { functionName: 'f' }, recorder());
    c.close();
    expect((await s.status(handle)).known).toBe(false);
    expect((await s.functions())[0]?.total).toBe(0);
  });

  localOnly(SYNCHRONOUS)('keeps a background job a foreground client had joined', async () => {
    const s = server();
    const c1 = s.connect();
    const c2 = s.connect();
    const { handle } = submit(c1, { functionName: 'f', unique: 'u', background: true });
    submit(c2, { functionName: 'f', unique: 'u' }, recorder());
    c2.close();
    expect((await s.jobs()).map((j) => [j.handle, j.background])).toEqual([[handle, true]]);
  });

  localOnly(SYNCHRONOUS)(
    'lets a running foreground job finish when its client left, its result going nowhere',
    async () => {
      const s = server();
      const c = s.connect();
      const r = recorder();
      const { handle } = submit(c, { functionName: 'f' }, r);
      const w = workerConnection(s, 'f');
      w.connection.grab();
      c.close();
      w.connection.workComplete(handle, 'x');
      expect(r.updates).toEqual([]);
      expect(await s.jobs()).toEqual([]);
    },
  );
});

describe('argument checks', () => {
  localOnly(SYNCHRONOUS)(
    'refuses names with NUL bytes, over-long uniques and foreground delayed jobs',
    () => {
      const s = server();
      const c = s.connect();
      expect(() => submit(c, { functionName: 'a\0b' })).toThrow(InvalidArgumentError);
      expect(() => submit(c, { functionName: 'f', unique: 'x'.repeat(65) })).toThrow(
        UniqueTooLargeError,
      );
      expect(submit(c, { functionName: 'f', unique: 'x'.repeat(64) }).coalesced).toBe(false);
      expect(() => submit(c, { functionName: 'f', runAt: 5 })).toThrow(InvalidArgumentError);
      expect(() => c.canDo('f', { capacity: 0 })).toThrow(InvalidArgumentError);
    },
  );
});

describe('memory', () => {
  localOnly(SYNCHRONOUS)('forgets finished jobs on the connections that submitted them', () => {
    const s = server();
    const c = s.connect();
    const w = workerConnection(s, 'f');
    for (let i = 0; i < 5; i++) {
      submit(c, { functionName: 'f', unique: `u${i % 2}` }, recorder());
      const job = w.connection.grab();
      if (job) w.connection.workComplete(job.handle);
    }
    const aborted = recorder();
    const { handle } = submit(c, { functionName: 'g' }, aborted);
    c.detach(handle, aborted);
    expect(c.waiting).toBe(0);
    expect(w.connection.holding).toBe(0);
  });
});

describe('payload coalescing across forms', () => {
  localOnly(BY_PAYLOAD)(
    'joins a foreground "-" submission to a background job with the same small payload',
    () => {
      const s = server();
      const c = s.connect();
      const bg = submit(c, {
        functionName: 'f',
        unique: '-',
        payload: Buffer.from('same'),
        background: true,
      });
      const fg = submit(
        c,
        { functionName: 'f', unique: '-', payload: Buffer.from('same') },
        recorder(),
      );
      expect(fg).toEqual({ handle: bg.handle, coalesced: true });
    },
  );
});

describe('job index across many jobs', () => {
  it('finds, lists and forgets jobs across pages of handles', async () => {
    const s = server();
    const c = s.connect();
    const handles = (
      await Promise.all(
        Array.from({ length: 3000 }, () => submitted(c, { functionName: 'f', background: true })),
      )
    ).map((outcome) => outcome.handle);
    for (let i = 0; i < 3000; i += 2) await s.cancel(handles[i]!);
    expect((await s.status(handles[1]!)).known).toBe(true);
    expect((await s.status(handles[2000]!)).known).toBe(false);
    expect(await s.status('H:t:3000')).toMatchObject({ known: true });
    expect((await s.status('H:t:03000')).known).toBe(false);
    expect((await s.jobs()).map((j) => j.handle)).toEqual(handles.filter((_, i) => i % 2 === 1));
    for (let i = 1; i < 3000; i += 2) await s.cancel(handles[i]!);
    expect(await s.jobs()).toEqual([]);
    expect((await submitted(c, { functionName: 'f', background: true })).handle).toBe('H:t:3001');
  });
});

describe('results by assignment', () => {
  localOnly(SYNCHRONOUS)(
    'accepts the assignment object in place of the handle, only from its holder and only once',
    () => {
      const s = server();
      const c = s.connect();
      const r = recorder();
      submit(c, { functionName: 'f' }, r);
      const w1 = workerConnection(s, 'f');
      const w2 = workerConnection(s, 'f');
      const first = w1.connection.grab()!;
      expect(() => w2.connection.workComplete(first, 'x')).toThrow(JobNotFoundError);
      w1.connection.close();
      const second = w2.connection.grab()!;
      expect(second.handle).toBe(first.handle);
      // The first assignment is stale although the handle is the same job.
      expect(() => w2.connection.workComplete(first, 'stale')).toThrow(JobNotFoundError);
      expect(w2.connection.holds(second)).toBe(true);
      w2.connection.workComplete(second, 'fresh');
      expect(r.updates).toEqual([{ type: 'complete', data: Buffer.from('fresh') }]);
    },
  );
});
