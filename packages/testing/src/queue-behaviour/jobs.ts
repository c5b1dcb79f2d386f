import assert from 'node:assert/strict';
import { JobExceptionError, JobFailedError, WorkFail, type Priority } from '@geartrain/core';
import { ask, statusOf, type Define } from './harness.js';

// Jobs from submission to end: background and foreground, their failures, priorities,
// unique ids, status, delays.

export function jobCases(define: Define): void {
  define('runs a background job and completes it', async (c) => {
    const node = await c.server();
    const job = await node.background('bg-echo', 'payload-1');
    assert.ok(job.handle.length > 0, 'a background submission gets a handle');
    assert.equal(job.background, true);
    assert.equal(job.coalesced, false, 'a first submission is not coalesced');
    const { jobs } = node.recording('bg-echo');
    await node.event('completed', job.handle);
    assert.deepEqual(
      jobs.map(({ job: j }) => [j.handle, j.functionName, j.text(), j.attempt]),
      [[job.handle, 'bg-echo', 'payload-1', 1]],
      'the worker ran the job once, with its handle, function and payload, as attempt 1',
    );
    assert.deepEqual(
      node.events.filter((e) => 'handle' in e && e.handle === job.handle).map((e) => e.type),
      ['submitted', 'started', 'completed'],
      "the job's events, in order",
    );
  });

  define("returns a foreground job's result to run() and submit()", async (c) => {
    const node = await c.server();
    node.recording('upper', (job) => job.text().toUpperCase(), { concurrency: 2 });
    const client = node.client();
    const result = await c.within(client.run('upper', 'abc'), "run('upper', 'abc')");
    assert.equal(result.toString(), 'ABC', 'run() resolves with the result');
    const job = await client.submit('upper', 'def');
    assert.equal(job.background, false);
    assert.equal(await c.within(job.text(), 'the result of a submitted job'), 'DEF');
  });

  define(
    'rejects the result of a job whose handler fails with JobFailedError WORK_FAIL',
    async (c) => {
      const node = await c.server();
      node.recording('refuse', () => {
        throw new WorkFail('card declined');
      });
      const error = await c.rejection(
        node.client().run('refuse', 'x'),
        'the result of a job whose handler threw WorkFail',
      );
      assert.ok(error instanceof JobFailedError, `expected a JobFailedError, got ${String(error)}`);
      assert.equal(error.reason, 'WORK_FAIL');
    },
  );

  define('rejects the result of a job whose handler throws with JobExceptionError', async (c) => {
    const node = await c.server();
    node.recording(
      'explode',
      () => {
        throw new TypeError('no such order');
      },
      { concurrency: 2 },
    );
    const error = await c.rejection(
      node.client().run('explode', 'x'),
      'the result of a job whose handler threw',
    );
    assert.ok(
      error instanceof JobExceptionError,
      `expected a JobExceptionError, got ${String(error)}`,
    );
    assert.equal(
      error.data.toString(),
      'no such order',
      "the exception carries the error's message",
    );
    // A client that did not ask for exceptions hears a plain failure.
    const plain = await c.rejection(
      node.client({ exceptions: false }).run('explode', 'y'),
      'the result of a job whose handler threw, for a client without exceptions',
    );
    assert.ok(plain instanceof JobFailedError, `expected a JobFailedError, got ${String(plain)}`);
    assert.equal(plain.reason, 'EXCEPTION');
  });

  define('runs high before normal before low, first in first out within a priority', async (c) => {
    const node = await c.server();
    const priorities: Priority[] = ['low', 'normal', 'high'];
    const submitted: string[] = [];
    // Submitted while no worker is registered, interleaved across priorities.
    for (let i = 1; i <= 3; i++) {
      for (const priority of priorities) {
        await node.background('prio', `${priority}-${i}`, { priority });
        submitted.push(`${priority}-${i}`);
      }
    }
    const { jobs } = node.recording('prio', undefined, { concurrency: 1 });
    await c.until(
      () => jobs.length === 9,
      () => `the 9 jobs to run (ran: ${jobs.map(({ job }) => job.text()).join(', ')})`,
    );
    assert.deepEqual(
      jobs.map(({ job }) => job.text()),
      ['high', 'normal', 'low'].flatMap((p) => [1, 2, 3].map((i) => `${p}-${i}`)),
      `the order jobs ran in, submitted in the order ${submitted.join(', ')}`,
    );
  });

  define(
    'coalesces a unique id while its job is queued or running, not after it ended',
    async (c) => {
      const node = await c.server();
      const first = await node.background('uniq', 'one', { unique: 'order-7' });
      const queued = await node.background('uniq', 'two', { unique: 'order-7' });
      assert.equal(
        queued.handle,
        first.handle,
        'a same-unique submission while queued gets its handle',
      );
      assert.equal(queued.coalesced, true, 'and says it was coalesced');
      const other = await node.background('uniq', 'three', { unique: 'order-8' });
      assert.notEqual(other.handle, first.handle, 'another unique id is another job');
      const elsewhere = await node.background('uniq-other', 'four', { unique: 'order-7' });
      assert.notEqual(
        elsewhere.handle,
        first.handle,
        "another function's unique id is another job",
      );
      assert.equal(elsewhere.coalesced, false);

      const { jobs } = node.holding('uniq');
      await c.until(() => jobs.length === 1, 'the worker to take the first job');
      assert.equal(jobs[0]!.job.handle, first.handle);
      assert.equal(jobs[0]!.job.text(), 'one', 'the job keeps the payload of its first submission');
      const running = await node.background('uniq', 'five', { unique: 'order-7' });
      assert.equal(
        running.handle,
        first.handle,
        'a same-unique submission while running gets its handle',
      );
      assert.equal(running.coalesced, true);

      jobs[0]!.complete();
      await node.event('completed', first.handle);
      const after = await node.background('uniq', 'six', { unique: 'order-7' });
      assert.notEqual(
        after.handle,
        first.handle,
        'once the job ended, the unique id makes a new job',
      );
      assert.equal(after.coalesced, false);
      await c.until(() => jobs.length === 2, 'the worker to take the next job');
      jobs[1]!.complete();
      await c.until(() => jobs.length === 3, 'the worker to take the third job');
      assert.deepEqual(
        jobs.map(({ job }) => job.text()),
        ['one', 'three', 'six'],
        'one job per unique id while live: three jobs ran',
      );
    },
  );

  define(
    'answers status by handle: queued, running with progress, unknown once ended',
    async (c) => {
      const node = await c.server();
      const job = await node.background('progress', 'x');
      const queued = { known: true, running: false, numerator: 0, denominator: 0 };
      assert.deepEqual(statusOf(await ask(node.server.status(job.handle))), queued, 'a queued job');
      assert.deepEqual(
        statusOf(await node.client().status(job.handle)),
        queued,
        "a client's status of a queued job",
      );
      const { jobs } = node.holding('progress');
      await c.until(() => jobs.length === 1, 'the worker to take the job');
      jobs[0]!.job.status(3, 7);
      await node.event('progress', job.handle);
      assert.deepEqual(
        statusOf(await ask(node.server.status(job.handle))),
        { known: true, running: true, numerator: 3, denominator: 7 },
        'a running job with the progress its worker reported',
      );
      jobs[0]!.complete();
      await node.event('completed', job.handle);
      const unknown = { known: false, running: false, numerator: 0, denominator: 0 };
      assert.deepEqual(
        statusOf(await ask(node.server.status(job.handle))),
        unknown,
        'an ended job',
      );
      assert.deepEqual(
        statusOf(await ask(node.server.status('H:nowhere:1'))),
        unknown,
        'a handle never given',
      );
    },
  );

  define('answers status by unique id: queued, running, unknown once ended', async (c) => {
    const node = await c.server();
    const job = await node.background('by-unique', 'x', { unique: 'invoice-3' });
    const of = async () => {
      const s = await ask(node.server.statusByUnique('invoice-3', 'by-unique'));
      return { known: s.known, running: s.running, handle: s.handle, clientCount: s.clientCount };
    };
    assert.deepEqual(
      await of(),
      { known: true, running: false, handle: job.handle, clientCount: 0 },
      'a queued background job, by its unique id',
    );
    const { jobs } = node.holding('by-unique');
    await c.until(() => jobs.length === 1, 'the worker to take the job');
    assert.deepEqual(
      await of(),
      { known: true, running: true, handle: job.handle, clientCount: 0 },
      'the job running',
    );
    jobs[0]!.complete();
    await node.event('completed', job.handle);
    const ended = await of();
    assert.equal(ended.known, false, 'an ended job is unknown by its unique id');
    assert.equal(ended.running, false);
  });

  define('never starts a delayed job before its time, and starts it then', async (c) => {
    const node = await c.server();
    const { jobs } = node.recording('later');
    const delay = 80;
    const before = Date.now();
    const job = await node.background('later', 'x', { delay });
    const delayed = await node.event('delayed', job.handle);
    assert.ok(
      delayed.runAt >= before + delay,
      `the job is due ${delayed.runAt - before} ms after its submission, not ${delay}`,
    );
    await node.event('completed', job.handle);
    assert.equal(jobs.length, 1, 'the delayed job ran once');
    const late = jobs[0]!.at - before;
    assert.ok(late >= delay, `the job started ${late} ms after its submission, before ${delay} ms`);
  });
}
