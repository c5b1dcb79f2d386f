// Each test double of @geartrain/testing, used as a user would, and shown catching a real
// bug: the same user-style check passes on correct code and fails on a buggy variant.
import {
  MemoryJobStore,
  WorkFail,
  type JobClient,
  type JobContext,
  type JobRecord,
  type JobStore,
} from '@geartrain/core';
import { GearmanServer } from '@geartrain/tcp';
import { duplexPair, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createFakeClient,
  createLoopback,
  describeJobStoreContract,
  runJob,
  type FakeClient,
  type SuiteApi,
} from '../src/index.js';
import { jobServer, localOnly, testServer } from './queues.js';

const MINUTE = 60_000;

// ---------------------------------------------------------------- application code under test

/** Closes an unpaid order 20 minutes after it was created (instead of a cron scan). */
async function scheduleOrderClose(client: JobClient, orderId: number): Promise<void> {
  await client.submit('close-order', JSON.stringify({ orderId }), {
    delay: 20 * MINUTE,
    unique: `close-order-${orderId}`,
  });
}
/** The bug: minutes taken for seconds. */
async function scheduleOrderCloseBuggy(client: JobClient, orderId: number): Promise<void> {
  await client.submit('close-order', JSON.stringify({ orderId }), { delay: 20 * 1000 });
}

/** Resizes every image of a batch, reporting progress after each. */
async function resizeBatch(job: JobContext): Promise<string[]> {
  const images = job.json<string[]>();
  const out: string[] = [];
  for (const [i, image] of images.entries()) {
    if (job.signal.aborted) throw new WorkFail('stopped');
    await Promise.resolve();
    out.push(`${image}@200`);
    job.status(i + 1, images.length);
  }
  return out;
}
/** The bug: progress before the work (off by one), and the abort is not honoured. */
async function resizeBatchBuggy(job: JobContext): Promise<string[]> {
  const images = job.json<string[]>();
  const out: string[] = [];
  for (const [i, image] of images.entries()) {
    job.status(i, images.length);
    await Promise.resolve();
    out.push(`${image}@200`);
  }
  return out;
}

/** Charges an order once (unique per order) at high priority, then mails a receipt. */
async function checkout(client: JobClient, orderId: number): Promise<'paid' | 'declined'> {
  try {
    await client.run('charge', JSON.stringify({ orderId }), {
      unique: `charge-${orderId}`,
      priority: 'high',
    });
  } catch {
    return 'declined';
  }
  await client.submit('email', `receipt ${orderId}`, { background: true });
  return 'paid';
}
/** The bug: no unique id, so a double click charges twice; and a failed charge still "paid". */
async function checkoutBuggy(client: JobClient, orderId: number): Promise<'paid' | 'declined'> {
  await client.submit('charge', JSON.stringify({ orderId }), { priority: 'high' });
  await client.submit('email', `receipt ${orderId}`, { background: true });
  return 'paid';
}

// ---------------------------------------------------------------- the user's tests, as functions

async function closesUnpaidOrderAfter20Minutes(schedule: typeof scheduleOrderClose) {
  const t = testServer();
  const closed: number[] = [];
  t.worker().register(
    'close-order',
    (job) => void closed.push(job.json<{ orderId: number }>().orderId),
  );
  await schedule(t.client(), 7);
  expect(await t.queued()).toHaveLength(1);
  await t.advanceBy(20 * MINUTE - 1);
  expect(closed).toEqual([]);
  await t.advanceBy(1);
  expect(closed).toEqual([7]);
  expect(t.finished()).toMatchObject([
    { functionName: 'close-order', outcome: 'completed', time: 20 * MINUTE },
  ]);
  await t.close();
}

async function resizeReportsProgressAndStops(handler: typeof resizeBatch) {
  const run = await runJob(handler, JSON.stringify(['a', 'b', 'c']));
  expect(run.ok && run.value).toEqual(['a@200', 'b@200', 'c@200']);
  expect(run.reports).toEqual([
    { type: 'status', numerator: 1, denominator: 3 },
    { type: 'status', numerator: 2, denominator: 3 },
    { type: 'status', numerator: 3, denominator: 3 },
  ]);
  const aborted = runJob(handler, JSON.stringify(['a', 'b', 'c']));
  aborted.abort(new Error('timeout'));
  const outcome = await aborted;
  expect(outcome.ok).toBe(false);
  expect(!outcome.ok && outcome.failed).toBe(true);
}

async function checkoutChargesOnceAndHandlesDecline(code: typeof checkout) {
  const client: FakeClient = createFakeClient().on('charge', { result: 'ok' });
  expect(await code(client, 42)).toBe('paid');
  expect(client.submitted('charge')).toMatchObject([
    { unique: 'charge-42', priority: 'high', background: false },
  ]);
  expect(client.last('email')).toMatchObject({ background: true });
  expect(client.last('email')?.text()).toBe('receipt 42');
  client.reset();
  client.on('charge', { fail: true });
  expect(await code(client, 43)).toBe('declined');
  expect(client.submitted('email')).toEqual([]);
}

// ---------------------------------------------------------------- tests

describe('createTestServer (virtual time)', () => {
  it('runs schedules: advance one hour, twelve ticks ran', async () => {
    const t = testServer();
    const cleaned: number[] = [];
    t.worker().register('cleanup', () => {
      cleaned.push(t.now());
    });
    await t.server.schedule('cleanup', { every: 5 * MINUTE, functionName: 'cleanup' });
    await t.advanceBy(60 * MINUTE);
    expect(t.ticks()).toHaveLength(12);
    expect(cleaned).toEqual(t.ticks().map((tick) => tick.tick));
    expect(t.finished().every((job) => job.outcome === 'completed')).toBe(true);
    await t.close();
  });

  it('starts on a given date, for cron schedules in a time zone', async () => {
    const t = testServer({ startAt: Date.parse('2026-12-24T12:00:00Z') });
    await t.server.schedule('eve', {
      cron: '0 0 18 24 12 *',
      timezone: 'America/New_York',
      functionName: 'greet',
    });
    await t.advanceBy(24 * 60 * MINUTE);
    expect(t.ticks().map((tick) => new Date(tick.tick).toISOString())).toEqual([
      '2026-12-24T23:00:00.000Z',
    ]);
    await t.close();
  });

  localOnly("a shared queue's backend reports no 'limited' event (limitWaits) to its nodes yet")(
    'runs rate limits deterministically: 10 a second is 60 jobs in 5 s (both ends)',
    async () => {
      const t = testServer();
      await t.server.setFunctionLimits('call', { rate: { max: 10, duration: 1000 } });
      t.worker().register('call', () => 'ok', { concurrency: 4 });
      const client = t.client();
      for (let i = 0; i < 100; i++) await client.submit('call', String(i), { background: true });
      await t.advanceBy(5000);
      const times = t.finished().map((job) => job.time);
      expect(times).toHaveLength(60);
      expect(new Set(times)).toEqual(new Set([0, 1000, 2000, 3000, 4000, 5000]));
      expect(t.limitWaits()[0]).toMatchObject({ functionName: 'call', until: 1000 });
      await t.server.setFunctionLimits('call', null);
      await t.advanceBy(0);
      expect(t.finished()).toHaveLength(100);
      await t.close();
    },
  );

  it('shows retries with their back-off, and the dead letter kept at the end', async () => {
    const t = testServer();
    await t.server.setJobPolicy('charge', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
    });
    t.worker().register('charge', () => {
      throw new Error('card declined');
    });
    const job = await t.client().submit('charge', 'order-7', { background: true });
    await t.advanceBy(999);
    expect(t.retries().map((r) => [r.attempt, r.delay, r.time])).toEqual([[1, 1000, 0]]);
    await t.advanceBy(1);
    await t.advanceBy(2000);
    expect(t.retries().map((r) => [r.attempt, r.reason, r.delay, r.time])).toEqual([
      [1, 'EXCEPTION', 1000, 0],
      [2, 'EXCEPTION', 2000, 1000],
    ]);
    expect(t.finished()).toMatchObject([{ handle: job.handle, outcome: 'failed' }]);
    const [dead] = await t.outcomes({ state: 'failed' });
    expect(dead).toMatchObject({ handle: job.handle, attempts: 3, endedAt: 3000 });
    expect(dead!.errors.map((e) => e.data?.toString())).toEqual([
      'card declined',
      'card declined',
      'card declined',
    ]);
    await t.close();
  });

  it('runs a delayed job at its time, and inspects queued, running and finished jobs', async () => {
    await closesUnpaidOrderAfter20Minutes(scheduleOrderClose);
  });

  it('catches a delay given in the wrong unit', async () => {
    await expect(closesUnpaidOrderAfter20Minutes(scheduleOrderCloseBuggy)).rejects.toMatchObject({
      name: 'AssertionError',
    });
  });

  localOnly(
    "runUntilIdle stops when no timer is left, and a shared queue's node polls its backend every second as a schedule ticks",
  )('runUntilIdle runs timers and handlers until nothing can happen', async () => {
    const t = testServer();
    const order: string[] = [];
    const w = t.worker();
    w.register('step', async (job) => {
      order.push(`${job.text()}@${t.now()}`);
      if (job.text() === 'first') await t.client().submit('step', 'second', { delay: 5 * MINUTE });
    });
    await t.client().submit('step', 'first', { delay: MINUTE });
    expect(await t.running()).toEqual([]);
    await t.runUntilIdle();
    expect(order).toEqual([`first@${MINUTE}`, `second@${6 * MINUTE}`]);
    expect(t.finished().map((j) => j.outcome)).toEqual(['completed', 'completed']);
    await t.close();
  });

  it('shows a running job, and a timeout on virtual time', async () => {
    const t = testServer();
    t.worker().register(
      'slow',
      (job) =>
        new Promise((_, reject) =>
          job.signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
      { timeout: 30_000 },
    );
    const job = await t.client().submit('slow');
    const result = job.result.catch((e: unknown) => e);
    await t.advanceBy(0);
    expect(await t.running()).toMatchObject([{ functionName: 'slow', state: 'running' }]);
    await t.advanceBy(30_000);
    expect(await result).toMatchObject({ reason: 'TIMEOUT' });
    expect(t.finished()).toMatchObject([{ outcome: 'failed', reason: 'TIMEOUT', time: 30_000 }]);
    await t.close();
  });
});

describe('runJob (recording context)', () => {
  it('records every report in order, the result, and honours an abort', async () => {
    await resizeReportsProgressAndStops(resizeBatch);
  });

  it('catches off-by-one progress and an ignored abort', async () => {
    await expect(resizeReportsProgressAndStops(resizeBatchBuggy)).rejects.toMatchObject({
      name: 'AssertionError',
    });
  });

  it('tells a plain failure from an exception, and encodes results as a worker would', async () => {
    expect(
      await runJob(() => {
        throw new WorkFail();
      }),
    ).toMatchObject({ ok: false, failed: true });
    expect(
      await runJob(() => {
        throw new Error('x');
      }),
    ).toMatchObject({ ok: false, failed: false });
    const json = await runJob(() => ({ a: 1 }));
    expect(json.ok && json.result.toString()).toBe('{"a":1}');
    const data = await runJob((job) => {
      job.data('chunk');
      job.warning('hm');
    });
    expect(data.reports.map((r) => r.type)).toEqual(['data', 'warning']);
  });
});

describe('createFakeClient', () => {
  it('records submissions and ends jobs as told', async () => {
    await checkoutChargesOnceAndHandlesDecline(checkout);
  });

  it('catches a missing unique id and an ignored failure', async () => {
    await expect(checkoutChargesOnceAndHandlesDecline(checkoutBuggy)).rejects.toMatchObject({
      name: 'AssertionError',
    });
  });

  it('holds jobs without a rule until settled, with updates from a handler', async () => {
    const client = createFakeClient();
    const job = await client.submit('report', 'q');
    expect(await client.status(job.handle)).toMatchObject({ known: true });
    expect(client.pending()).toHaveLength(1);
    const events: string[] = [];
    job.events$.subscribe((u) => events.push(u.type));
    await client.settle(
      { functionName: 'report' },
      {
        handler: (j) => {
          j.status(1, 1);
          return j.text().toUpperCase();
        },
      },
    );
    expect(await job.text()).toBe('Q');
    expect(events).toEqual(['status', 'complete']);
    expect(await client.status(job.handle)).toMatchObject({ known: false });
    const delayed = await client.submit('later', '', { delay: 1000 });
    expect(client.find((s) => s.handle === delayed.handle)?.runAt).toBeGreaterThan(Date.now());
  });
});

// ---------------------------------------------------------------- the store contract

/** Collects a suite's tests so that they can be run here and their failures counted. */
function collect(
  body: (api: SuiteApi) => void,
): { name: string; run: () => Promise<void> | void }[] {
  const tests: { name: string; run: () => Promise<void> | void }[] = [];
  body({ describe: (_name, inner) => inner(), it: (name, run) => void tests.push({ name, run }) });
  return tests;
}

/** A store with two bugs: newest first, and records with an empty unique id overwrite each other. */
class BuggyStore implements JobStore {
  private records: JobRecord[] = [];
  add(record: JobRecord): void {
    if (record.unique === '') this.records = this.records.filter((r) => r.unique !== '');
    this.records.unshift(record);
  }
  update(): void {}
  remove(record: JobRecord): void {
    this.records = this.records.filter((r) => r.id !== record.id);
  }
  list(): JobRecord[] {
    return [...this.records];
  }
  highestSeq(): number {
    return Math.max(0, ...this.records.map((r) => r.seq));
  }
}

describeJobStoreContract('MemoryJobStore', () => new MemoryJobStore(), { api: { describe, it } });

describe('describeJobStoreContract', () => {
  it('fails a store that lists newest first and merges jobs without a unique id', async () => {
    const tests = collect((api) =>
      describeJobStoreContract('buggy', () => new BuggyStore(), { api }),
    );
    const failures: string[] = [];
    for (const test of tests) {
      try {
        await test.run();
      } catch (error) {
        expect((error as Error).name).toBe('AssertionError');
        failures.push(test.name);
      }
    }
    expect(failures).toContain('lists what was added in seq order, every field kept');
    expect(failures).toContain('keeps records with an empty unique id apart');
    expect(failures.length).toBeLessThan(tests.length);
  });
});

// ---------------------------------------------------------------- the loopback

/** The user's adapter test: ECHO comes back byte for byte, admin `status` lists a function. */
async function echoesAndReportsStatus(server: { handle(stream: Duplex): unknown }) {
  const peer = createLoopback(server);
  const data = Buffer.from([0, 1, 2, 255, 0]);
  const echo = await peer.request({ type: 'ECHO_REQ', data }, 'ECHO_RES');
  expect(echo.data).toEqual(data);
  const created = await peer.request(
    { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: Buffer.from('x') },
    'JOB_CREATED',
  );
  expect(created.handle).toMatch(/^H:/);
  peer.command('status');
  expect(await peer.line()).toBe('f\t1\t0\t0');
  expect(await peer.line()).toBe('.');
  peer.close();
}

describe('createLoopback', () => {
  it('speaks real Gearman bytes to a server without a socket', async () => {
    const jobs = jobServer();
    await echoesAndReportsStatus(new GearmanServer(jobs));
    await jobs.close({ timeout: 0 });
  });

  it('catches an adapter that drops the bytes after a NUL in ECHO data', async () => {
    const jobs = jobServer();
    const real = new GearmanServer(jobs);
    const buggy = {
      handle(stream: Duplex) {
        // Forwards to the real server, but cuts an ECHO_RES's data at its first NUL.
        const [inner, outer] = duplexPair();
        real.handle(outer);
        stream.pipe(inner);
        inner.on('data', (chunk: Buffer) => {
          if (chunk.length < 12 || chunk.readUInt32BE(4) !== 17) {
            stream.write(chunk);
            return;
          }
          const nul = chunk.indexOf(0, 12);
          const body = chunk.subarray(12, nul < 0 ? chunk.length : nul);
          const header = Buffer.from(chunk.subarray(0, 12));
          header.writeUInt32BE(body.length, 8);
          stream.write(Buffer.concat([header, body]));
        });
      },
    };
    await expect(echoesAndReportsStatus(buggy)).rejects.toMatchObject({ name: 'AssertionError' });
    await jobs.close({ timeout: 0 });
  });
});
