import assert from 'node:assert/strict';
import { ask, type Define, type HeldJob } from './harness.js';

// When a function's jobs may start: pauses, concurrency and rate limits; and schedules,
// which submit them.

/**
 * How far apart, at least, the `started` events of a rate-limited function may be found
 * below the limit's window: a shared queue's clock and this node's may disagree by a few ms
 * (the local queue is exact).
 */
const CLOCK_SLACK = 10;

export function controlCases(define: Define): void {
  define(
    'pauses a function: accepts its jobs, starts none, then runs them all on resume',
    async (c) => {
      const node = await c.server();
      await ask(node.server.pause('paused'));
      assert.equal(node.eventsOf('paused').length, 1, 'a paused event');
      const ran: string[] = [];
      const record = (job: { text(): string }) => {
        ran.push(job.text());
        c.poke();
      };
      node.worker().register('paused', record, { concurrency: 3 }).register('marker', record);
      const accepted = [];
      for (const payload of ['p1', 'p2', 'p3'])
        accepted.push(await node.background('paused', payload));
      assert.equal(
        new Set(accepted.map((j) => j.handle)).size,
        3,
        'three jobs accepted while paused',
      );
      // Queued after them, of a function not paused: once it ran, the worker was free to take
      // the paused jobs as well, had they been handed out.
      const marker = await node.background('marker', 'marker');
      await node.event('completed', marker.handle);
      assert.deepEqual(ran, ['marker'], 'no job of a paused function started');
      const row = (await ask(node.server.functions())).find((f) => f.functionName === 'paused');
      assert.deepEqual(
        { queued: row?.queued.normal, running: row?.running },
        { queued: 3, running: 0 },
        'the paused jobs wait queued',
      );
      await ask(node.server.resume('paused'));
      await c.until(() => ran.length === 4, 'the paused jobs to run after the resume');
      assert.deepEqual(ran, ['marker', 'p1', 'p2', 'p3']);
    },
  );

  define('never runs more jobs of a function at once than its concurrency limit', async (c) => {
    const node = await c.server();
    const limit = 2;
    const total = 6;
    await ask(node.server.setFunctionLimits('limited', { concurrency: limit }));
    for (let i = 0; i < total; i++) await node.background('limited', `job-${i}`);
    // Two workers with room for more than the limit, holding jobs until released one by one:
    // a start past the limit would find more than `limit` jobs held.
    const jobs: HeldJob[] = [];
    node.holding('limited', { concurrency: 4 }, jobs);
    node.holding('limited', { concurrency: 4 }, jobs);
    await c.until(() => jobs.length === limit, `${limit} jobs to start`);
    for (let i = 0; i < total; i++) {
      await c.until(() => jobs.length > i, `job ${i + 1} of ${total} to start`);
      jobs[i]!.complete();
    }
    await node.event('completed', undefined, total);
    const most = Math.max(...jobs.map((j) => j.runningAtStart));
    assert.equal(jobs.length, total, 'every job ran once');
    assert.ok(most <= limit, `at most ${limit} jobs ran at once; ${most} did`);
    assert.equal(most, limit, `${limit} jobs ran at once under a limit of ${limit}`);
  });

  define('never starts more jobs of a function in a window than its rate limit', async (c) => {
    const node = await c.server();
    const rate = { max: 2, duration: 150 };
    const total = 6;
    await ask(node.server.setFunctionLimits('rated', { rate }));
    for (let i = 0; i < total; i++) await node.background('rated', `job-${i}`);
    node.recording('rated', undefined, { concurrency: total });
    await node.event('completed', undefined, total);
    const starts = node.eventsOf('started').map((e) => e.time);
    assert.equal(starts.length, total, 'every job started once');
    for (let i = rate.max; i < total; i++) {
      const gap = starts[i]! - starts[i - rate.max]!;
      assert.ok(
        gap >= rate.duration - CLOCK_SLACK,
        `starts ${i - rate.max + 1} and ${i + 1} were ${gap} ms apart: ${rate.max + 1} jobs ` +
          `started within ${rate.duration} ms (starts at ${starts.map((t) => t - starts[0]!).join(', ')} ms)`,
      );
    }
  });

  define(
    'ticks a schedule: one job per tick, each with its own unique id; unschedule stops it',
    async (c) => {
      const node = await c.server();
      const every = 50;
      const { jobs } = node.recording('tick');
      const info = await ask(node.server.schedule('ticker', { every, functionName: 'tick' }));
      assert.equal(info.id, 'ticker');
      await c.until(() => jobs.length >= 3, 'three ticks to run their jobs');
      assert.equal(await ask(node.server.unschedule('ticker')), true, 'unschedule of a schedule');
      const ticks = node.eventsOf('scheduled').length;
      assert.deepEqual(await ask(node.server.schedules()), [], 'no schedule left');
      // Three intervals later, no tick was submitted after the unschedule.
      node.recording('after');
      const later = await node.background('after', '', { delay: 3 * every });
      await node.event('completed', later.handle);
      const scheduled = node.eventsOf('scheduled');
      assert.equal(scheduled.length, ticks, 'no tick after unschedule');
      assert.ok(
        scheduled.every((e) => e.scheduleId === 'ticker' && !e.coalesced),
        'each tick submitted a new job',
      );
      const times = scheduled.map((e) => e.tick);
      for (let i = 1; i < times.length; i++) {
        const step = times[i]! - times[i - 1]!;
        assert.ok(
          step > 0 && step % every === 0,
          `ticks ${times.join(', ')} are not ${every} ms apart`,
        );
      }
      assert.equal(
        new Set(scheduled.map((e) => e.handle)).size,
        scheduled.length,
        'a job per tick',
      );
      assert.deepEqual(
        jobs.map(({ job }) => [job.handle, job.unique]),
        scheduled.map((e) => [e.handle, `ticker:${e.tick}`]),
        "each tick's job ran once, with the unique id <schedule>:<tick ms>",
      );
    },
  );
}
