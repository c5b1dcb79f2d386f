import assert from 'node:assert/strict';
import { JobFailedError, ServerClosedError } from '@geartrain/core';
import { ask, statusOf, type Define } from './harness.js';

// Workers that go away mid-job, and servers that close.

export function lifecycleCases(define: Define): void {
  define(
    'puts back the job of a worker whose connection closed mid-job; another completes it',
    async (c) => {
      const node = await c.server();
      const job = await node.background('lost', 'x');
      const taken = await node.takeRaw('lost');
      assert.equal(taken.job.handle, job.handle, 'the bare connection took the job');
      taken.connection.close();
      const { jobs } = node.recording('lost');
      await node.event('completed', job.handle);
      assert.deepEqual(
        jobs.map(({ job: j }) => [j.handle, j.text(), j.attempt]),
        [[job.handle, 'x', 2]],
        'another worker completed the same job, as its second attempt',
      );
    },
  );

  define(
    'puts back the job of a worker stopped mid-job with a zero timeout; another completes it',
    async (c) => {
      const node = await c.server();
      const job = await node.background('stopped', 'x');
      const first = node.holding('stopped');
      await c.until(() => first.jobs.length === 1, 'the first worker to take the job');
      await c.within(first.worker.stop({ timeout: 0 }), 'the first worker to stop');
      assert.equal(first.jobs[0]!.aborted, true, "the stopped worker's job signal fired");
      const { jobs } = node.recording('stopped');
      await node.event('completed', job.handle);
      assert.deepEqual(
        jobs.map(({ job: j }) => [j.handle, j.text(), j.attempt]),
        [[job.handle, 'x', 2]],
        'another worker completed the same job, as its second attempt',
      );
    },
  );

  define(
    'fails waiting foreground jobs with SHUTDOWN at close, lets running ones finish',
    async (c) => {
      const node = await c.server();
      const client = node.client();
      const { jobs } = node.holding('finishing');
      const running = await client.submit('finishing', 'x');
      await c.until(() => jobs.length === 1, 'the worker to take the job');
      const waiting = await client.submit('never-worked', 'y');
      const closed = node.server.close({ timeout: 10_000 });
      const error = await c.rejection(waiting.result, 'the result of a job waiting at close');
      assert.ok(error instanceof JobFailedError, `expected a JobFailedError, got ${String(error)}`);
      assert.equal(error.reason, 'SHUTDOWN');
      jobs[0]!.complete('finished');
      assert.equal(
        (await c.within(running.result, 'the result of the job running at close')).toString(),
        'finished',
        'a job running at close finishes',
      );
      await c.within(closed, 'the server to close');
      const refused = await c.rejection(
        Promise.resolve().then(() => node.client().submit('finishing', 'z')),
        'a submission to a closed server',
      );
      assert.ok(
        refused instanceof ServerClosedError,
        `expected a ServerClosedError, got ${String(refused)}`,
      );
    },
  );
}

/** Queues whose jobs outlive their server (`durable`). */
export function durableCases(define: Define): void {
  define(
    'keeps queued background jobs at close: a server reopened on the queue runs them',
    async (c) => {
      const node = await c.server();
      const before = Date.now();
      const normal = await node.background('kept-at-close', 'normal');
      const high = await node.background('kept-at-close', 'high', { priority: 'high' });
      const delayed = await node.background('kept-at-close', 'delayed', { delay: 100 });
      await c.within(node.server.close(), 'the server to close');
      const again = await c.reopen(node);
      assert.deepEqual(
        statusOf(await ask(again.server.status(normal.handle))),
        { known: true, running: false, numerator: 0, denominator: 0 },
        'the reopened server knows a job by its handle',
      );
      const { jobs } = again.recording('kept-at-close');
      await c.until(
        () => jobs.length === 3,
        () =>
          `the 3 jobs kept at close to run (ran: ${jobs.map(({ job }) => job.text()).join(', ')})`,
      );
      assert.deepEqual(
        jobs.map(({ job }) => [job.handle, job.text()]),
        [
          [high.handle, 'high'],
          [normal.handle, 'normal'],
          [delayed.handle, 'delayed'],
        ],
        'every job ran once, under its handle, high first and the delayed one last',
      );
      const late = jobs[2]!.at - before;
      assert.ok(
        late >= 100,
        `the delayed job started ${late} ms after its submission, before 100 ms`,
      );
    },
  );
}
