import assert from 'node:assert/strict';
import { JobFailedError, JobNotFoundError, WorkFail, type JobOutcome } from '@geartrain/core';
import { ask, statusOf, type Define } from './harness.js';

// Attempts and their ends: retries under a policy, dead letters run again or discarded,
// kept outcomes, cancels.

/** What a kept outcome says, without its times. */
function summary(o: JobOutcome | undefined) {
  if (o === undefined) return undefined;
  return {
    handle: o.handle,
    functionName: o.functionName,
    unique: o.unique,
    state: o.state,
    reason: o.reason,
    result: o.result?.toString() ?? null,
    payload: o.payload.toString(),
    attempts: o.attempts,
    errors: o.errors.map((e) => [e.attempt, e.reason, e.message]),
  };
}

export function failureCases(define: Define): void {
  define(
    'retries under a policy: fails twice, completes on the third attempt, same handle',
    async (c) => {
      const node = await c.server();
      await ask(node.server.setJobPolicy('flaky', { attempts: 3 }));
      const { jobs } = node.recording('flaky', (job) => {
        if (job.attempt < 3) throw new Error(`attempt ${job.attempt} failed`);
        return 'third time lucky';
      });
      const job = await node.background('flaky', 'x');
      await node.event('completed', job.handle);
      assert.deepEqual(
        jobs.map(({ job: j }) => [j.handle, j.attempt]),
        [
          [job.handle, 1],
          [job.handle, 2],
          [job.handle, 3],
        ],
        'three attempts of the same job',
      );
      assert.deepEqual(
        node.eventsOf('retrying', job.handle).map((e) => [e.attempt, e.reason]),
        [
          [1, 'EXCEPTION'],
          [2, 'EXCEPTION'],
        ],
        'a retrying event for each failed attempt but the last',
      );
      assert.equal(node.eventsOf('failed', job.handle).length, 0, 'the job never failed for good');
    },
  );

  define('gives a foreground client of a retried job only its final result', async (c) => {
    const node = await c.server();
    await ask(node.server.setJobPolicy('flaky-fg', { attempts: 3 }));
    const { jobs } = node.recording('flaky-fg', (job) => {
      if (job.attempt < 3) throw new WorkFail(`attempt ${job.attempt} failed`);
      return 'third time lucky';
    });
    const result = await c.within(node.client().run('flaky-fg', 'x'), 'the result of run()');
    assert.equal(result.toString(), 'third time lucky');
    assert.deepEqual(
      jobs.map(({ job }) => job.attempt),
      [1, 2, 3],
    );
  });

  define("keeps a dead letter after the last attempt, with each attempt's error", async (c) => {
    const node = await c.server();
    await ask(node.server.setJobPolicy('doomed', { attempts: 2 }));
    node.recording('doomed', (job) => {
      throw new Error(`declined ${job.attempt}`);
    });
    const job = await node.background('doomed', 'order-9', { unique: 'order-9' });
    const failed = await node.event('failed', job.handle);
    assert.equal(failed.reason, 'EXCEPTION');
    const expected = {
      handle: job.handle,
      functionName: 'doomed',
      unique: 'order-9',
      state: 'failed',
      reason: 'EXCEPTION',
      result: null,
      payload: 'order-9',
      attempts: 2,
      errors: [
        [1, 'EXCEPTION', 'declined 1'],
        [2, 'EXCEPTION', 'declined 2'],
      ],
    };
    const letters = await ask(node.server.outcomes({ state: 'failed' }));
    assert.deepEqual(letters.map(summary), [expected], 'the failed outcomes');
    assert.deepEqual(summary(await ask(node.server.outcome(job.handle))), expected, 'its outcome');
    assert.deepEqual(await ask(node.server.outcomes({ state: 'completed' })), []);
    assert.equal(statusOf(await ask(node.server.status(job.handle))).known, false);
  });

  define('runs a dead letter again with retry(handle), under the same handle', async (c) => {
    const node = await c.server();
    let failing = true;
    const { jobs } = node.recording('revived', () => {
      if (failing) throw new WorkFail('not yet');
      return 'done';
    });
    const job = await node.background('revived', 'x');
    await node.event('failed', job.handle);
    assert.deepEqual(
      summary(await ask(node.server.outcome(job.handle)))?.errors,
      [[1, 'WORK_FAIL', 'not yet']],
      'the dead letter, one attempt failed',
    );
    failing = false;
    assert.equal(await ask(node.server.retry(job.handle)), job.handle, 'retry answers its handle');
    await node.event('completed', job.handle);
    assert.deepEqual(
      jobs.map(({ job: j }) => [j.handle, j.text(), j.attempt]),
      [
        [job.handle, 'x', 1],
        [job.handle, 'x', 1],
      ],
      'run again with its payload, from a fresh attempt count',
    );
    assert.equal(node.eventsOf('resubmitted', job.handle).length, 1, 'a resubmitted event');
    assert.deepEqual(
      await ask(node.server.outcomes({ state: 'failed' })),
      [],
      'no dead letter is left once it ran again',
    );
  });

  define('discards dead letters: one by handle, then every one of a function', async (c) => {
    const node = await c.server();
    node.recording(
      'discarded',
      () => {
        throw new WorkFail('no');
      },
      { concurrency: 2 },
    );
    const a = await node.background('discarded', 'a');
    const b = await node.background('discarded', 'b');
    await node.event('failed', a.handle);
    await node.event('failed', b.handle);
    assert.equal(await ask(node.server.discard(a.handle)), true, 'discard of a dead letter');
    assert.equal(await ask(node.server.outcome(a.handle)), undefined, 'its outcome is gone');
    assert.equal(await ask(node.server.discard(a.handle)), false, 'a second discard finds none');
    const error = await c.rejection(
      Promise.resolve().then(() => node.server.retry(a.handle)),
      'retry of a discarded job',
    );
    assert.ok(
      error instanceof JobNotFoundError,
      `expected a JobNotFoundError, got ${String(error)}`,
    );
    assert.equal(await ask(node.server.discardFailed('discarded')), 1, 'discardFailed counts b');
    assert.deepEqual(await ask(node.server.outcomes({ state: 'failed' })), []);
  });

  define('keeps completed outcomes when the policy keeps them, and only then', async (c) => {
    const node = await c.server();
    await ask(node.server.setJobPolicy('kept', { keep: { completed: { count: 10 } } }));
    node.recording('kept', (job) => `result of ${job.text()}`);
    node.recording('not-kept', (job) => `result of ${job.text()}`);
    const kept = await node.background('kept', 'a');
    const notKept = await node.background('not-kept', 'b');
    await node.event('completed', kept.handle);
    await node.event('completed', notKept.handle);
    assert.deepEqual(
      summary(await ask(node.server.outcome(kept.handle))),
      {
        handle: kept.handle,
        functionName: 'kept',
        unique: kept.unique,
        state: 'completed',
        reason: null,
        result: 'result of a',
        payload: '',
        attempts: 1,
        errors: [],
      },
      'the completed outcome, with its result',
    );
    assert.equal(
      await ask(node.server.outcome(notKept.handle)),
      undefined,
      'no completed outcome is kept without a policy that keeps them',
    );
    assert.deepEqual(
      (await ask(node.server.outcomes({ state: 'completed' }))).map((o) => o.handle),
      [kept.handle],
    );
  });

  define('cancels a queued job: its client hears CANCELLED, no worker gets it', async (c) => {
    const node = await c.server();
    const waiting = await node.client().submit('cancel-queued', 'foreground');
    const queued = await node.background('cancel-queued', 'background');
    const marker = await node.background('cancel-queued', 'marker');
    assert.equal(await ask(node.server.cancel(waiting.handle)), true, 'cancel of a queued job');
    assert.equal(await ask(node.server.cancel(queued.handle)), true);
    const error = await c.rejection(waiting.result, 'the result of a cancelled job');
    assert.ok(error instanceof JobFailedError, `expected a JobFailedError, got ${String(error)}`);
    assert.equal(error.reason, 'CANCELLED');
    await node.event('cancelled', queued.handle);
    assert.equal(statusOf(await ask(node.server.status(queued.handle))).known, false);
    assert.equal(await ask(node.server.cancel(queued.handle)), false, 'a second cancel finds none');
    // The jobs were queued before the marker: had they been handed out, they would be first.
    const { jobs } = node.recording('cancel-queued');
    await node.event('completed', marker.handle);
    assert.deepEqual(
      jobs.map(({ job }) => job.text()),
      ['marker'],
      'no worker got the cancelled jobs',
    );
  });

  define(
    "cancels a running job: the worker's signal fires, the client hears CANCELLED",
    async (c) => {
      const node = await c.server();
      const { jobs } = node.holding('cancel-running');
      const job = await node.client().submit('cancel-running', 'x');
      await c.until(() => jobs.length === 1, 'the worker to take the job');
      assert.equal(await ask(node.server.cancel(job.handle)), true, 'cancel of a running job');
      await c.until(() => jobs[0]!.aborted, "the worker's AbortSignal to fire");
      const error = await c.rejection(job.result, 'the result of a cancelled running job');
      assert.ok(error instanceof JobFailedError, `expected a JobFailedError, got ${String(error)}`);
      assert.equal(error.reason, 'CANCELLED');
      assert.equal(statusOf(await ask(node.server.status(job.handle))).known, false);
    },
  );
}
