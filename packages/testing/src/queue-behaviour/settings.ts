import assert from 'node:assert/strict';
import { ask, type Define } from './harness.js';

// Each function's settings record (`settings`, `configure`): read back as changed, the older
// methods reading and changing the same record, in force for the queue's jobs, and, on a
// queue that several servers share, the same on every node.

export function settingsCases(define: Define): void {
  define(
    'reads back the settings it was given, through settings() and the older views',
    async (c) => {
      const node = await c.server();
      const server = node.server;
      const changed = await ask(
        server.configure('charge', {
          attempts: 4,
          backoff: { type: 'exponential', delay: 100, max: 1000 },
          keep: { failed: { count: 3 } },
          rate: { max: 5, duration: 1000 },
          concurrency: 2,
          maxQueue: 10,
          paused: true,
        }),
      );
      const configured = {
        functionName: 'charge',
        attempts: 4,
        backoff: { type: 'exponential', delay: 100, max: 1000 },
        keep: { failed: { count: 3 } },
        rate: { max: 5, duration: 1000 },
        concurrency: 2,
        maxQueue: { high: 10, normal: 10, low: 10 },
        paused: true,
      };
      assert.deepEqual(changed.configured, configured, 'configure answers with the record');
      const read = await ask(server.settings('charge'));
      assert.deepEqual(read, changed, 'settings() reads what configure answered');
      assert.deepEqual(
        (await ask(server.configured())).map((s) => s.configured),
        [configured],
        'configured() lists it',
      );
      assert.equal(await ask(server.paused('charge')), true, 'paused() reads it');
      assert.deepEqual(await ask(server.functionLimits('charge')), {
        rate: { max: 5, duration: 1000 },
        concurrency: 2,
      });
      assert.deepEqual(await ask(server.jobPolicy('charge')), {
        attempts: 4,
        backoff: { type: 'exponential', delay: 100, max: 1000 },
        keep: { failed: { count: 3 } },
      });
      assert.equal(node.eventsOf('paused').length, 1, 'a paused event');

      // The older methods change the same record: a part of it each, the rest kept.
      await ask(server.resume('charge'));
      await ask(server.setJobPolicy('charge', { attempts: 2 }));
      await ask(server.setFunctionLimits('charge', null));
      assert.deepEqual((await ask(server.settings('charge'))).configured, {
        functionName: 'charge',
        attempts: 2,
        maxQueue: { high: 10, normal: 10, low: 10 },
      });
      assert.deepEqual(await ask(server.controls()), [], 'neither paused nor limited any more');
      // null puts a default back: nothing set, no record.
      await ask(server.configure('charge', { attempts: null, maxQueue: null }));
      assert.deepEqual(await ask(server.configured()), []);
    },
  );

  define("refuses a submission past a function's maxQueue", async (c) => {
    const node = await c.server();
    await ask(node.server.configure('bounded', { maxQueue: 1 }));
    await node.background('bounded', 'first');
    const error = await c.rejection(node.background('bounded', 'second'), 'a second job');
    assert.equal((error as { code?: string }).code, 'QUEUE_FULL');
  });

  define('retries a failed job as its attempts say', async (c) => {
    const node = await c.server();
    await ask(node.server.configure('flaky', { attempts: 2 }));
    let calls = 0;
    node.recording('flaky', () => {
      calls++;
      if (calls === 1) throw new Error('first attempt fails');
      return 'ok';
    });
    const job = await node.background('flaky', 'x');
    await node.event('completed', job.handle);
    assert.equal(calls, 2, 'run twice: failed, then completed');
  });
}

export function crossNodeSettingsCases(define: Define): void {
  define(
    'reads on node B the settings changed on node A, and holds its jobs by them',
    async (c) => {
      const a = await c.server();
      const b = await c.peer(a);
      const changed = await ask(a.server.configure('shared', { paused: true, attempts: 3 }));
      assert.deepEqual(await ask(b.server.settings('shared')), changed, 'B reads what A set');
      const { jobs } = b.recording('shared');
      const job = await b.background('shared', 'held');
      const marker = await b.background('marker', 'm');
      b.recording('marker');
      await b.event('completed', marker.handle);
      assert.equal(jobs.length, 0, "no job of a function paused on A starts on B's worker");
      await ask(b.server.resume('shared'));
      await b.event('completed', job.handle);
      assert.deepEqual(
        (await ask(a.server.settings('shared'))).configured,
        { functionName: 'shared', attempts: 3 },
        'A reads the resume B made',
      );
    },
  );
}
