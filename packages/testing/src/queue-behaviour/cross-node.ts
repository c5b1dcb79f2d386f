import assert from 'node:assert/strict';
import { ask, statusOf, type Define } from './harness.js';

// Several servers on one queue (`makePeer`): background jobs are the queue's, whichever
// node took the submission or runs the worker.

export function crossNodeCases(define: Define): void {
  define('runs a job submitted on node A by a worker on node B', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    const { jobs } = b.recording('across');
    const job = await a.background('across', 'from A');
    await b.event('completed', job.handle);
    assert.deepEqual(
      jobs.map(({ job: j }) => [j.handle, j.text(), j.attempt]),
      [[job.handle, 'from A', 1]],
      "node B's worker ran node A's job once",
    );
    assert.equal(statusOf(await ask(a.server.status(job.handle))).known, false, 'ended, on A');
  });

  define(
    'a pause on node A holds the function on node B; a resume there lets it run',
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      const ran: string[] = [];
      const record = (job: { text(): string }) => {
        ran.push(job.text());
        c.poke();
      };
      b.worker().register('gated', record, { concurrency: 3 }).register('marker', record);
      await ask(a.server.pause('gated'));
      await c.until(() => b.eventsOf('paused').length === 1, 'the pause to reach node B');
      for (const payload of ['g1', 'g2']) await a.background('gated', payload);
      // Queued after them, of a function not paused: once it ran, B's worker was free to take
      // the paused jobs as well, had they been handed out.
      const marker = await a.background('marker', 'marker');
      await b.event('completed', marker.handle);
      assert.deepEqual(ran, ['marker'], 'no job of the function paused on A started on B');
      assert.equal((await ask(b.server.settings('gated'))).paused, true, "B's settings say paused");
      await ask(a.server.resume('gated'));
      await c.until(() => b.eventsOf('resumed').length === 1, 'the resume to reach node B');
      await c.until(() => ran.length === 3, 'the paused jobs to run on B after the resume');
      assert.deepEqual(ran.slice(1).sort(), ['g1', 'g2']);
    },
  );

  define('answers status by handle alike on every node', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    const job = await a.background('watched', 'x');
    const both = async () => [
      statusOf(await ask(a.server.status(job.handle))),
      statusOf(await ask(b.server.status(job.handle))),
    ];
    const queued = { known: true, running: false, numerator: 0, denominator: 0 };
    assert.deepEqual(await both(), [queued, queued], 'queued, on A and on B');
    const { jobs } = b.holding('watched');
    await c.until(() => jobs.length === 1, "node B's worker to take the job");
    jobs[0]!.job.status(2, 5);
    await b.event('progress', job.handle);
    const running = { known: true, running: true, numerator: 2, denominator: 5 };
    assert.deepEqual(await both(), [running, running], 'running with its progress, on A and on B');
    jobs[0]!.complete();
    await b.event('completed', job.handle);
    const ended = { known: false, running: false, numerator: 0, denominator: 0 };
    assert.deepEqual(await both(), [ended, ended], 'ended, on A and on B');
  });

  define('coalesces a unique id across nodes while its job is live', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    const first = await a.background('dedupe', 'on A', { unique: 'order-1' });
    const queued = await b.background('dedupe', 'on B', { unique: 'order-1' });
    assert.deepEqual(
      [queued.handle, queued.coalesced],
      [first.handle, true],
      "B's same-unique submission joins A's queued job",
    );
    const { jobs } = b.holding('dedupe');
    await c.until(() => jobs.length === 1, "node B's worker to take the job");
    const running = await a.background('dedupe', 'on A again', { unique: 'order-1' });
    assert.deepEqual(
      [running.handle, running.coalesced],
      [first.handle, true],
      'and while running',
    );
    jobs[0]!.complete();
    await b.event('completed', first.handle);
    const after = await b.background('dedupe', 'after', { unique: 'order-1' });
    assert.notEqual(after.handle, first.handle, 'once it ended, a new job');
    assert.equal(after.coalesced, false);
    assert.equal(jobs[0]!.job.text(), 'on A', 'the job ran with its first payload');
  });

  define('lets another node complete the job of a node closed mid-job', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    const job = await a.background('rescued', 'x');
    const held = b.holding('rescued');
    await c.until(() => held.jobs.length === 1, "node B's worker to take the job");
    // Node B goes away without waiting for its running job.
    await c.within(b.server.close({ timeout: 0 }), 'node B to close');
    const { jobs } = a.recording('rescued');
    await a.event('completed', job.handle);
    assert.deepEqual(
      jobs.map(({ job: j }) => [j.handle, j.text(), j.attempt]),
      [[job.handle, 'x', 2]],
      "node A's worker completed the job, as its second attempt",
    );
  });
}
