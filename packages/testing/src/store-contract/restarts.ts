import { type JobServer } from '@geartrain/core';
import assert from 'node:assert/strict';
import { VirtualClock } from '../clock.js';
import {
  record,
  list,
  same,
  turns,
  until,
  holdingWorker,
  type It,
  type WithStore,
  type ServerOn,
} from './support.js';

// A server's jobs, outcomes, settings and schedules on the store across restarts (part of
// describeJobStoreContract).

export function restartCases(it: It, withStore: WithStore, serverOn: ServerOn): void {
  it(
    'still lists its records when opened again',
    withStore(async (store, restart) => {
      const r = record({ unique: 'durable' });
      await store.add(r);
      const again = await restart();
      same((await list(again))[0]!, r);
    }),
  );

  it(
    'lets a restarted server run the background jobs a previous one accepted, not the foreground ones',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      const client = first.client();
      const job = await client.submit('email', 'to:a@example.com', {
        background: true,
        unique: 'mail-1',
      });
      assert.ok(job.handle.length > 0);
      const done = first.client().submit('email', 'foreground', {});
      void done.catch(() => undefined);
      await turns();
      // The process dies: nothing is closed, nothing removed.
      const second = serverOn(await restart(), clock);
      await second.ready;
      const worker = holdingWorker(second, ['email']);
      await until(() => worker.seen.length === 1, 'the job ran');
      worker.finishAll();
      await turns();
      assert.deepEqual(
        worker.seen.map((j) => j.payload),
        ['to:a@example.com'],
      );
      const left = await list(await restart());
      assert.deepEqual(left, [], 'the finished job is removed from the store');
    }),
  );

  it(
    'keeps the order of queued jobs within each function and priority',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      const client = first.client();
      const submitted: Promise<unknown>[] = [];
      const priorities = ['low', 'normal', 'high'] as const;
      for (let i = 0; i < 30; i++) {
        const priority = priorities[i % 3]!;
        const fn = i % 2 === 0 ? 'even' : 'odd';
        submitted.push(client.submit(fn, `${priority}-${i}`, { background: true, priority }));
      }
      await Promise.all(submitted);
      const second = serverOn(await restart(), clock);
      await second.ready;
      const seen: string[] = [];
      const worker = second.worker();
      for (const fn of ['even', 'odd'])
        worker.register(fn, (job) => void seen.push(`${fn}:${job.text()}`));
      await until(() => seen.length === 30, 'every job ran');
      for (const fn of ['even', 'odd']) {
        const ran = seen.filter((s) => s.startsWith(`${fn}:`)).map((s) => s.slice(fn.length + 1));
        const expected = priorities
          .slice()
          .reverse()
          .flatMap((p) =>
            Array.from({ length: 30 }, (_, i) => i)
              .filter((i) => priorities[i % 3] === p && (i % 2 === 0) === (fn === 'even'))
              .map((i) => `${p}-${i}`),
          );
        assert.deepEqual(ran, expected, `order of ${fn}`);
      }
    }),
  );

  it(
    'keeps a delayed job to its time: never early after a restart, at once if due',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      await clock.advanceBy(1_000);
      const first = serverOn(store, clock);
      await first.ready;
      const client = first.client();
      const start = clock.now();
      await client.submit('close-order', 'in-20-min', {
        background: true,
        runAt: start + 20 * 60_000,
      });
      await client.submit('close-order', 'in-1-min', { background: true, runAt: start + 60_000 });
      await turns();
      // Down for 10 minutes: the one-minute job is due at the restart, the other is not.
      await clock.advanceBy(10 * 60_000);
      const second = serverOn(await restart(), clock);
      await second.ready;
      const worker = holdingWorker(second, ['close-order']);
      await until(() => worker.seen.length === 1, 'the due job ran');
      assert.deepEqual(
        worker.seen.map((j) => j.payload),
        ['in-1-min'],
      );
      worker.finishAll();
      await clock.advanceTo(start + 20 * 60_000 - 1);
      await turns();
      assert.equal(worker.seen.length, 1, 'the 20-minute job did not run early');
      await clock.advanceTo(start + 20 * 60_000);
      await until(() => worker.seen.length === 2, 'the 20-minute job ran on time');
      assert.equal(worker.seen[1]!.payload, 'in-20-min');
    }),
  );

  it(
    'keeps handles and unique ids: the same handle answers, a same-unique submission coalesces',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      const client = first.client();
      const a = await client.submit('mail', 'a', { background: true, unique: 'order-7' });
      const b = await client.submit('mail', 'b', { background: true });
      const finished = await client.submit('other', 'c', { background: true });
      const w1 = holdingWorker(first, ['other']);
      await until(() => w1.seen.length === 1, 'the other job ran');
      w1.finishAll();
      await turns();

      const second = serverOn(await restart(), clock);
      await second.ready;
      assert.equal((await second.status(a.handle)).known, true, 'GET_STATUS knows the old handle');
      assert.equal((await second.status(b.handle)).known, true);
      assert.equal((await second.status(finished.handle)).known, false);
      const again = await second
        .client()
        .submit('mail', 'a again', { background: true, unique: 'order-7' });
      assert.equal(again.handle, a.handle, 'coalesced onto the replayed job');
      const fresh = await second.client().submit('mail', 'd', { background: true });
      for (const old of [a.handle, b.handle, finished.handle])
        assert.notEqual(fresh.handle, old, 'a new job never takes an old handle');
      const worker = holdingWorker(second, ['mail'], 3);
      await until(() => worker.seen.length === 3, 'the jobs ran');
      assert.deepEqual(
        worker.seen.map((j) => [j.payload, j.handle]),
        [
          ['a', a.handle],
          ['b', b.handle],
          ['d', fresh.handle],
        ],
      );
    }),
  );

  it(
    'keeps a retry waiting for its time, and the job its own policy, across a restart',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      const job = await first.client().submit('charge', 'order-9', {
        background: true,
        attempts: 3,
        backoff: { type: 'fixed', delay: 60_000 },
      });
      const failing = first.worker();
      failing.register('charge', () => {
        throw new Error('declined');
      });
      await until(
        async () => (await first.jobs())[0]?.state === 'delayed',
        'the first attempt failed',
      );
      await failing.stop({ timeout: 0 });
      await turns();

      const second = serverOn(await restart(), clock);
      await second.ready;
      assert.deepEqual(
        (await second.jobs()).map((j) => [j.handle, j.state]),
        [[job.handle, 'delayed']],
      );
      const attempts: number[] = [];
      second.worker().register('charge', (j) => {
        attempts.push(j.attempt);
        throw new Error('declined again');
      });
      await clock.advanceBy(60_000 - 1);
      assert.deepEqual(attempts, [], 'not before its time');
      await clock.advanceBy(1);
      await until(() => attempts.length === 1, 'the second attempt ran');
      await clock.advanceBy(60_000);
      await until(() => attempts.length === 2, 'the third attempt ran');
      assert.deepEqual(attempts, [2, 3]);
      await turns();
      assert.equal((await second.status(job.handle)).known, false, 'failed for good after 3');
    }),
  );

  it(
    'keeps the outcomes of ended jobs across a restart, and forgets what was discarded',
    withStore(async (store, restart) => {
      if (store.keepOutcome === undefined) return; // a store may keep no outcomes
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.setJobPolicy('pay', { attempts: 2, keep: { completed: { count: 10 } } });
      await first.ready;
      const client = first.client();
      const declined = await client.submit('pay', Buffer.from([1, 0, 2]), {
        background: true,
        unique: 'order-1',
      });
      const paid = await client.submit('pay', 'ok', { background: true });
      const gone = await client.submit('pay', 'gone', { background: true });
      class CardDeclined extends Error {}
      const stacks: string[] = [];
      first.worker().register('pay', (job) => {
        if (job.text() === 'ok') return 'receipt';
        const error = new CardDeclined(`declined ${job.attempt}: ünïcode`);
        if (job.text() !== 'gone') stacks.push(error.stack!);
        throw error;
      });
      await until(async () => (await first.outcomeCount()) === 3, 'all three ended');
      assert.equal(await first.discard(gone.handle), true);
      await turns();

      const second = serverOn(await restart(), clock);
      await second.setJobPolicy('pay', { attempts: 2, keep: { completed: { count: 10 } } });
      await second.ready;
      const failed = await second.outcome(declined.handle);
      assert.ok(failed !== undefined, 'the failed job is kept across the restart');
      assert.equal(failed.state, 'failed');
      assert.equal(failed.reason, 'EXCEPTION');
      assert.equal(failed.attempts, 2);
      // Each attempt's error: its message, its bytes, the class thrown and its stack.
      assert.deepEqual(
        failed.errors.map((e) => [e.attempt, e.reason, e.message, e.data?.toString(), e.name]),
        [
          [1, 'EXCEPTION', 'declined 1: ünïcode', 'declined 1: ünïcode', 'CardDeclined'],
          [2, 'EXCEPTION', 'declined 2: ünïcode', 'declined 2: ünïcode', 'CardDeclined'],
        ],
      );
      assert.deepEqual(
        failed.errors.map((e) => e.stack),
        stacks,
      );
      assert.ok(failed.payload.equals(Buffer.from([1, 0, 2])));
      assert.equal((await second.outcome(paid.handle))?.result?.toString(), 'receipt');
      assert.equal(await second.outcome(gone.handle), undefined, 'a discarded outcome stays gone');
      // Run by hand: the same handle, and the job is in the store again.
      assert.equal(await second.retry(declined.handle), declined.handle);
      await turns();
      const third = serverOn(await restart(), clock);
      await third.ready;
      assert.equal(await third.outcome(declined.handle), undefined);
      assert.deepEqual(
        (await third.jobs()).map((j) => j.handle),
        [declined.handle],
      );
    }),
  );

  it(
    'queues a job that was running at the crash again at the front, its attempt counted',
    withStore(async (store, restart) => {
      const clock = new VirtualClock();
      let server = serverOn(store, clock, 1);
      await server.ready;
      const client = server.client();
      const long = await client.submit('work', 'long', { background: true });
      await client.submit('work', 'next', { background: true });
      let worker = holdingWorker(server, ['work']);
      await until(() => worker.seen.length === 1, 'the first attempt started');
      await turns();

      server = serverOn(await restart(), clock, 1);
      await server.ready;
      worker = holdingWorker(server, ['work']);
      await until(() => worker.seen.length === 1, 'the second attempt started');
      assert.deepEqual(worker.seen[0], {
        fn: 'work',
        payload: 'long',
        handle: long.handle,
        attempt: 2,
      });
      await turns();

      // A second crash while it runs: past maxRetries (1), it fails and the next job runs.
      const failed: string[] = [];
      server = serverOn(await restart(), clock, 1);
      server.events$.subscribe((e) => {
        if (e.type === 'failed') failed.push(`${e.handle} ${e.reason}`);
      });
      await server.ready;
      worker = holdingWorker(server, ['work']);
      await until(() => worker.seen.length === 1, 'the next job started');
      assert.equal(worker.seen[0]!.payload, 'next');
      assert.equal((await server.status(long.handle)).known, false);
      worker.finishAll();
      await turns();
      assert.deepEqual(await list(await restart()), []);
    }),
  );

  it(
    'keeps pauses and limits across a restart',
    withStore(async (store, restart) => {
      // A store may keep no pauses and limits (neither settings records nor controls).
      if (store.saveSettings === undefined && store.saveControl === undefined) return;
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      await first.pause('mail');
      await first.setFunctionLimits('pay', { rate: { max: 10, duration: 1000 }, concurrency: 2 });
      await first.setFunctionLimits('gone', { concurrency: 1 });
      await first.setFunctionLimits('gone', null);
      await first.client().submit('mail', 'waits', { background: true });
      await turns();

      const second = serverOn(await restart(), clock);
      await second.ready;
      assert.deepEqual(await second.controls(), [
        { functionName: 'mail', paused: true, rate: null, concurrency: null },
        { functionName: 'pay', paused: false, rate: { max: 10, duration: 1000 }, concurrency: 2 },
      ]);
      const worker = holdingWorker(second, ['mail']);
      await turns();
      assert.deepEqual(worker.seen, [], 'a paused function hands nothing out after a restart');
      await second.resume('mail');
      await until(() => worker.seen.length === 1, 'the job ran after the resume');
      worker.finishAll();
      await turns();
      const third = serverOn(await restart(), clock);
      await third.ready;
      assert.equal(await third.paused('mail'), false);
    }),
  );

  it(
    "keeps each function's settings record whole across a restart",
    withStore(async (store, restart) => {
      if (store.saveSettings === undefined) return; // a store may keep no settings records
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      await first.setJobPolicy('charge', {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000, max: 60_000, jitter: 0.2 },
        // Infinity (keep all, no age limit) must come back as Infinity, not as null.
        keep: { completed: { count: Infinity }, failed: { count: 10, age: Infinity } },
      });
      await first.configure('charge', {
        rate: { max: 10, duration: 1000 },
        concurrency: 2,
        maxQueue: { high: 1, normal: 2, low: 3 },
        paused: true,
      });
      await first.configure('mail', { attempts: 2 });
      await first.configure('gone', { backoff: 5, concurrency: 1 });
      await first.configure('gone', { backoff: null, concurrency: null });
      const before = await first.configured();
      assert.deepEqual(
        before.map((s) => s.functionName),
        ['charge', 'mail'],
      );
      await turns();

      const second = serverOn(await restart(), clock);
      await second.ready;
      assert.deepEqual(await second.configured(), before);
      assert.deepEqual(await second.jobPolicy('mail'), {
        attempts: 2,
        backoff: { type: 'fixed', delay: 0 },
      });
      await second.configure('charge', { paused: null, keep: null });
      await second.setJobPolicy('mail', null);
      await turns();
      const third = serverOn(await restart(), clock);
      await third.ready;
      assert.deepEqual(
        (await third.configured()).map((s) => s.configured),
        [
          {
            functionName: 'charge',
            attempts: 5,
            backoff: { type: 'exponential', delay: 1000, max: 60_000, jitter: 0.2 },
            rate: { max: 10, duration: 1000 },
            concurrency: 2,
            maxQueue: { high: 1, normal: 2, low: 3 },
          },
        ],
      );
    }),
  );

  it(
    'keeps schedules with their last tick: a tick is submitted once across restarts',
    withStore(async (store, restart) => {
      if (store.saveSchedule === undefined) return; // a store may keep no schedules
      const clock = new VirtualClock();
      const first = serverOn(store, clock);
      await first.ready;
      await first.schedule('sweep', {
        every: 60_000,
        functionName: 'sweep',
        payload: Buffer.from([0, 1]),
        priority: 'low',
      });
      await first.schedule('gone', { cron: '0 * * * * *', functionName: 'x' });
      assert.equal(await first.unschedule('gone'), true);
      await clock.advanceBy(3 * 60_000);
      await turns();
      const ticks = async (s: JobServer) =>
        (await s.jobs()).filter((j) => j.functionName === 'sweep').map((j) => j.unique);
      assert.deepEqual(await ticks(first), ['sweep:60000', 'sweep:120000', 'sweep:180000']);

      // Restarted at the same instant: the ticks are stored with their jobs, none again.
      const second = serverOn(await restart(), clock);
      await second.ready;
      await turns();
      assert.deepEqual(await ticks(second), ['sweep:60000', 'sweep:120000', 'sweep:180000']);
      const schedules = await second.schedules();
      const [info] = schedules;
      assert.ok(info !== undefined && schedules.length === 1, 'one schedule left');
      assert.equal(info.lastTick, 180_000);
      assert.equal(info.nextTick, 240_000);
      assert.equal(info.priority, 'low');
      assert.ok(info.payload.equals(Buffer.from([0, 1])));
      await clock.advanceBy(60_000);
      await turns();
      assert.deepEqual((await ticks(second)).at(-1), 'sweep:240000');
      assert.equal(await second.unschedule('sweep'), true);
      await turns();
      const third = serverOn(await restart(), clock);
      await third.ready;
      assert.deepEqual(await third.schedules(), []);
    }),
  );
}
