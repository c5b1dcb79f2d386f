import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import { WorkFail, type JobUpdate } from '@geartrain/core';
import { ask, statusOf, type Define, type HeldJob } from './harness.js';

// Several servers on one queue (`makePeer`): jobs are the queue's, background and
// foreground, whichever node took the submission or runs the worker.

/** An update as the cases compare them (buffers as text). */
function shown(update: JobUpdate): unknown[] {
  switch (update.type) {
    case 'status':
      return [update.type, update.numerator, update.denominator];
    case 'fail':
      return [update.type, update.reason];
    default:
      return [update.type, update.data.toString()];
  }
}

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
      const pausedAt = Date.now();
      await ask(a.server.pause('gated'));
      // Within a second (issue 32): the NOTIFY goes at once, and B reads the record.
      await c.until(() => b.eventsOf('paused').length === 1, 'the pause to reach node B', 1000);
      assert.ok(Date.now() - pausedAt <= 1000);
      for (const payload of ['g1', 'g2']) await a.background('gated', payload);
      // Queued after them, of a function not paused: once it ran, B's worker was free to take
      // the paused jobs as well, had they been handed out.
      const marker = await a.background('marker', 'marker');
      await b.event('completed', marker.handle);
      assert.deepEqual(ran, ['marker'], 'no job of the function paused on A started on B');
      assert.equal((await ask(b.server.settings('gated'))).paused, true, "B's settings say paused");
      await ask(a.server.resume('gated'));
      await c.until(() => b.eventsOf('resumed').length === 1, 'the resume to reach node B', 1000);
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

  define(
    "streams a foreground job's updates from node B's worker to node A's client, in order",
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      b.worker().register('streamed', (job) => {
        job.status(1, 3);
        job.data('part one');
        job.warning('careful');
        job.status(2, 3);
        job.data('part two');
        return `done with ${job.text()}`;
      });
      const submitted = await a.client().submit('streamed', 'the order');
      const updates = c.within(
        firstValueFrom(submitted.events$.pipe(toArray())),
        "the job's updates on A",
      );
      assert.equal(
        (await c.within(submitted.result, 'the result on A')).toString(),
        'done with the order',
      );
      assert.deepEqual((await updates).map(shown), [
        ['status', 1, 3],
        ['data', 'part one'],
        ['warning', 'careful'],
        ['status', 2, 3],
        ['data', 'part two'],
        ['complete', 'done with the order'],
      ]);
    },
  );

  define(
    "leaves nothing waiting on node A's connection once B's worker ended its jobs",
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      b.worker().register('ping', (job) => {
        if (job.text() === 'fail') throw new WorkFail('no');
        return 'pong';
      });
      const connection = a.server.connect();
      c.onEnd(() => connection.close());
      const ends: string[] = [];
      const listener = {
        exceptions: true,
        update: (_handle: string, update: JobUpdate) => {
          if (update.type !== 'status' && update.type !== 'data' && update.type !== 'warning')
            ends.push(update.type);
          c.poke();
        },
      };
      for (const payload of ['ok', 'fail', 'ok']) {
        await ask(connection.submit({ functionName: 'ping', payload }, listener));
      }
      await c.until(
        () => ends.length === 3,
        () => `the three ends on A (got ${ends.join(',')})`,
      );
      assert.deepEqual(ends.sort(), ['complete', 'complete', 'fail']);
      assert.equal(connection.waiting, 0, 'no submission left waiting on the connection');
    },
  );

  define("runs a task set on node A with node B's workers, the results in order", async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    b.worker()
      .register('upper', (job) => job.text().toUpperCase(), { concurrency: 4 })
      .register('count', (job) => String(job.text().length));
    const results = await c.within(
      a.client().runAll([
        { functionName: 'upper', payload: 'one' },
        { functionName: 'count', payload: 'three' },
        { functionName: 'upper', payload: 'two', priority: 'high' },
      ]),
      'the task set on A',
    );
    assert.deepEqual(
      results.map((r) => r.toString()),
      ['ONE', '5', 'TWO'],
    );
  });

  define("tells node A's client how a foreground job failed on node B", async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    b.worker().register('breaks', (job) => {
      if (job.text() === 'throw') throw new Error('broken on B');
      throw new WorkFail('refused on B');
    });
    const client = a.client();
    const failed = await c.rejection(client.run('breaks', 'fail'), 'a WORK_FAIL on A');
    assert.equal((failed as { reason?: string }).reason, 'WORK_FAIL');
    const thrown = await c.rejection(client.run('breaks', 'throw'), 'an exception on A');
    assert.equal((thrown as { code?: string }).code, 'JOB_EXCEPTION');
    assert.match(String((thrown as { data?: Buffer }).data), /broken on B/);
  });

  define(
    'coalesces foreground submissions on two nodes onto one job: each client gets the result',
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      const { jobs } = b.holding('report');
      const onA = await a.client().submit('report', 'monthly', { unique: 'report-11' });
      await c.until(() => jobs.length === 1, "node B's worker to take the job");
      jobs[0]!.job.data('half');
      const onB = await b.client().submit('report', 'monthly again', { unique: 'report-11' });
      const bg = await a.background('report', 'in the background', { unique: 'report-11' });
      assert.deepEqual(
        [onB.handle, onB.coalesced, bg.handle, bg.coalesced],
        [onA.handle, true, onA.handle, true],
        'a foreground (B) and a background (A) submission join the running job',
      );
      jobs[0]!.complete('the report');
      assert.deepEqual(
        [
          (await c.within(onA.result, 'the result on A')).toString(),
          (await c.within(onB.result, 'the result on B')).toString(),
        ],
        ['the report', 'the report'],
      );
      assert.equal(jobs.length, 1, 'one job ran');
    },
  );

  define(
    'streams one job to clients on two nodes, one of them the node running it, each update once',
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      const onA = await a.client().submit('render', 'scene', { unique: 'scene-1' });
      const onB = await b.client().submit('render', 'scene', { unique: 'scene-1' });
      assert.equal(onB.handle, onA.handle);
      const streams = [onA, onB].map((job) =>
        c.within(firstValueFrom(job.events$.pipe(toArray())), 'the updates'),
      );
      const { jobs } = b.holding('render');
      await c.until(() => jobs.length === 1, "node B's worker to take the job");
      jobs[0]!.job.data('frame 1');
      jobs[0]!.job.status(1, 2);
      jobs[0]!.job.data('frame 2');
      jobs[0]!.complete('movie');
      const expected = [
        ['data', 'frame 1'],
        ['status', 1, 2],
        ['data', 'frame 2'],
        ['complete', 'movie'],
      ];
      for (const [i, stream] of streams.entries()) {
        assert.deepEqual((await stream).map(shown), expected, `the stream on ${'AB'[i]}`);
      }
    },
  );

  define(
    "drops a queued foreground job once its clients on every node left (a closed node's too)",
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      const gone = new AbortController();
      const first = await a.client().submit('later', 'x', { unique: 'u-1', signal: gone.signal });
      const second = await b.client().submit('later', 'y', { unique: 'u-1' });
      assert.equal(second.handle, first.handle, 'coalesced across the nodes');
      gone.abort();
      await c.rejection(first.result, 'the aborted submission');
      const status = async () => statusOf(await ask(a.server.status(first.handle))).known;
      assert.equal(await status(), true, "kept while B's client waits");
      await c.within(b.server.close({ timeout: 0 }), 'node B to close');
      await c.rejection(second.result, "B's client at B's close");
      // Asked again until it is gone: each ask is a round trip to the queue, bounded.
      const deadline = Date.now() + 10_000;
      while (await status()) {
        assert.ok(Date.now() < deadline, 'timed out waiting for the job nobody waits for to go');
      }
      const { jobs } = a.recording('later');
      const marker = await a.background('later', 'marker');
      await a.event('completed', marker.handle);
      assert.deepEqual(
        jobs.map(({ job }) => job.text()),
        ['marker'],
        'the dropped job never ran',
      );
    },
  );

  define('lists the same nodes from every node, each marking itself', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    b.worker().register('resize', () => 'ok');
    const [fromA, fromB] = [await ask(a.server.nodes()), await ask(b.server.nodes())];
    assert.equal(fromA.length, 2, 'two nodes, seen from A');
    assert.deepEqual(
      fromA.map((n) => n.id).sort(),
      fromB.map((n) => n.id).sort(),
      'the same nodes from B',
    );
    const selfA = fromA.find((n) => n.self)!;
    const selfB = fromB.find((n) => n.self)!;
    assert.notEqual(selfA.id, selfB.id, 'each marks itself');
    assert.equal(fromA.filter((n) => n.self).length, 1);
    for (const node of fromA) {
      assert.ok(node.startedAt > 0 && node.heartbeatAt >= node.startedAt - 1000, node.name);
      assert.equal(node.running, 0);
    }
    // B's workers' functions reach the queue with its next heartbeat (the double: at once);
    // the listing is asked again until it says so, each ask a round trip, bounded.
    const deadline = Date.now() + 5000;
    for (;;) {
      const seen = (await ask(a.server.nodes())).find((n) => n.id === selfB.id)!;
      if (seen.functions.includes('resize')) break;
      assert.ok(Date.now() < deadline, "B's functions, seen from A, within 5 s");
      await ask(a.server.functions());
    }
  });

  define('holds a concurrency limit set on node A across the workers of both nodes', async (c) => {
    const a = await c.server();
    const b = await c.peer(a);
    const limit = 2;
    const total = 6;
    await ask(a.server.setFunctionLimits('shared-limit', { concurrency: limit }));
    for (let i = 0; i < total; i++) await a.background('shared-limit', `job-${i}`);
    // Each node's worker has room for more than the limit; one list counts both nodes'
    // held jobs, so a start past the limit on either finds more than `limit` held.
    const jobs: HeldJob[] = [];
    a.holding('shared-limit', { concurrency: 4 }, jobs);
    b.holding('shared-limit', { concurrency: 4 }, jobs);
    await c.until(() => jobs.length === limit, `${limit} jobs to start`);
    for (let i = 0; i < total; i++) {
      await c.until(() => jobs.length > i, `job ${i + 1} of ${total} to start`);
      jobs[i]!.complete();
    }
    await c.until(() => jobs.every((j) => j.done), 'every job to end');
    const most = Math.max(...jobs.map((j) => j.runningAtStart));
    assert.equal(jobs.length, total, 'every job ran once');
    assert.ok(most <= limit, `at most ${limit} jobs ran at once on the two nodes; ${most} did`);
  });

  define(
    "a schedule is the cluster's: defined on node A, redefined on B, removed on A",
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      // Each run with its tick (the job's unique id ends with it).
      const runs: { fn: string; tick: number }[] = [];
      for (const node of [a, b]) {
        for (const fn of ['beat-old', 'beat-new']) {
          node.recording(fn, (job) => {
            runs.push({ fn: job.functionName, tick: Number(job.unique.split(':').pop()) });
            return 'ok';
          });
        }
      }
      await ask(a.server.schedule('beat', { every: 50, functionName: 'beat-old' }));
      const listed = async (node: typeof a) =>
        (await ask(node.server.schedules())).map((s) => [s.id, s.functionName]);
      assert.deepEqual(await listed(b), [['beat', 'beat-old']], 'listed on B');
      await c.until(() => runs.length >= 2, 'two ticks of the first definition');
      await ask(b.server.schedule('beat', { every: 50, functionName: 'beat-new' }));
      assert.deepEqual(await listed(a), [['beat', 'beat-new']], 'redefined, as A lists it');
      await c.until(
        () => runs.filter((r) => r.fn === 'beat-new').length >= 3,
        'three ticks of the new definition',
      );
      // No node ticked the old definition after a tick of the new one.
      const firstNew = Math.min(...runs.filter((r) => r.fn === 'beat-new').map((r) => r.tick));
      assert.deepEqual(
        runs.filter((r) => r.fn === 'beat-old' && r.tick >= firstNew),
        [],
        'ticks of the old definition after the new one',
      );
      assert.equal(await ask(a.server.unschedule('beat')), true);
      assert.deepEqual(await listed(b), [], 'removed, as B lists it');
    },
  );
}
