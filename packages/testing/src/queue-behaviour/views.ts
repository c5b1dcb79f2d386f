import assert from 'node:assert/strict';
import type { FunctionStatus } from '@geartrain/core';
import { ask, type Define, type Node } from './harness.js';

// The read-only views: counts per function, and live jobs by state.

async function row(node: Node, functionName: string) {
  const f: FunctionStatus | undefined = (await ask(node.server.functions())).find(
    (r) => r.functionName === functionName,
  );
  assert.ok(f !== undefined, `functions() lists ${functionName}`);
  return {
    total: f.total,
    running: f.running,
    workers: f.workers,
    queued: { ...f.queued },
    delayed: f.delayed,
  };
}

export function viewCases(define: Define): void {
  define(
    'counts each function: queued by priority, running, workers, and what ended',
    async (c) => {
      const node = await c.server();
      await node.background('counted', 'h', { priority: 'high' });
      await node.background('counted', 'n1');
      await node.background('counted', 'n2');
      await node.background('counted', 'l', { priority: 'low' });
      await node.background('counted', 'd', { delay: 60_000 });
      assert.deepEqual(
        await row(node, 'counted'),
        { total: 5, running: 0, workers: 0, queued: { high: 1, normal: 3, low: 1 }, delayed: 1 },
        'five jobs queued (one of them delayed), no worker',
      );
      const { jobs } = node.holding('counted');
      await c.until(() => jobs.length === 1, 'the worker to take a job');
      assert.deepEqual(
        await row(node, 'counted'),
        { total: 5, running: 1, workers: 1, queued: { high: 0, normal: 3, low: 1 }, delayed: 1 },
        'the high job running, one worker',
      );
      for (let i = 0; i < 4; i++) {
        await c.until(() => jobs.length > i, `job ${i + 1} of 4 to start`);
        jobs[i]!.complete();
      }
      await node.event('completed', undefined, 4);
      assert.deepEqual(
        await row(node, 'counted'),
        { total: 1, running: 0, workers: 1, queued: { high: 0, normal: 1, low: 0 }, delayed: 1 },
        'four ended; the delayed job is left',
      );
      const counts = (await ask(node.server.functions())).find(
        (r) => r.functionName === 'counted',
      )!.counts;
      assert.deepEqual(
        { submitted: counts.submitted, completed: counts.completed, failed: counts.failed },
        { submitted: 5, completed: 4, failed: 0 },
        'what happened to its jobs',
      );
    },
  );

  define('lists live jobs by state: running, queued (next first), delayed', async (c) => {
    const node = await c.server();
    const before = Date.now();
    const delayed = await node.background('listed', 'd', { delay: 60_000 });
    const first = await node.background('listed', '1');
    const second = await node.background('listed', '2');
    const third = await node.background('listed', '3');
    const { jobs } = node.holding('listed');
    await c.until(() => jobs.length === 1, 'the worker to take a job');
    const list = async (state?: 'queued' | 'delayed' | 'running', limit?: number) =>
      (await ask(node.server.jobs({ state, functionName: 'listed', limit }))).map((j) => [
        j.handle,
        j.state,
      ]);
    assert.deepEqual(await list('running'), [[first.handle, 'running']], 'running');
    assert.deepEqual(
      await list('queued'),
      [
        [second.handle, 'queued'],
        [third.handle, 'queued'],
      ],
      'queued, next first',
    );
    assert.deepEqual(await list('queued', 1), [[second.handle, 'queued']], 'queued, limit 1');
    assert.deepEqual(await list('delayed'), [[delayed.handle, 'delayed']], 'delayed');
    const all = await list();
    assert.deepEqual(
      all.map(([handle]) => handle).sort(),
      [delayed.handle, first.handle, second.handle, third.handle].sort(),
      'every live job',
    );
    const info = await ask(node.server.job(delayed.handle));
    assert.ok(info !== undefined, 'job(handle) finds the delayed job');
    assert.ok(
      info.runAt >= before + 60_000,
      `the delayed job is due at its time, not ${info.runAt}`,
    );
    assert.equal((await ask(node.server.job(first.handle)))?.state, 'running');
    assert.deepEqual(await ask(node.server.jobs({ functionName: 'nothing-here' })), []);
    jobs[0]!.complete();
    await node.event('completed', first.handle);
    assert.equal(await ask(node.server.job(first.handle)), undefined, 'an ended job is not listed');
  });
}
