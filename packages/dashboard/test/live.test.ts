import { createJobServer, InvalidArgumentError, type JobServer } from '@geartrain/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardHandler, serveDashboard, type LiveUpdate } from '../src/index.js';

let server: JobServer | undefined;
afterEach(async () => {
  await server?.close({ timeout: 0 });
  server = undefined;
});

/** Reads server-sent `update` events from a stream, one at a time. */
function updates(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    async next(): Promise<LiveUpdate> {
      for (let reads = 0; reads < 1000; reads++) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) return JSON.parse(data.slice(6)) as LiveUpdate;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffered += decoder.decode(value, { stream: true });
      }
      throw new Error('no update in 1000 reads');
    },
    cancel: () => reader.cancel(),
  };
}

describe('the live feed', () => {
  it('sends a snapshot at once, then one per interval with the throughput of each', async () => {
    server = createJobServer();
    const served = await serveDashboard(server, { processMetrics: false, interval: 50 });
    try {
      const response = await fetch(`http://127.0.0.1:${served.address.port}/api/events`);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const feed = updates(response.body!);
      const first = await feed.next();
      expect(first.snapshot.totals.running).toBe(0);
      expect(first.history).toEqual([]);

      const client = server.connect();
      const worker = server.connect();
      worker.canDo('mail');
      for (let i = 0; i < 5; i++) {
        void client.submit({ functionName: 'mail', payload: `${i}`, background: true });
      }
      for (let i = 0; i < 3; i++) worker.workComplete(worker.grab()!, 'ok');
      worker.workFail(worker.grab()!);
      const running = worker.grab()!;
      worker.workStatus(running, 1, 2);

      // The counts moved between two updates: some interval carries them.
      let seen = { submitted: 0, completed: 0, failed: 0 };
      let last = first;
      for (let i = 0; i < 20 && seen.completed < 3; i++) {
        last = await feed.next();
        seen = last.history.reduce(
          (a, p) => ({
            submitted: a.submitted + p.submitted,
            completed: a.completed + p.completed,
            failed: a.failed + p.failed,
          }),
          { submitted: 0, completed: 0, failed: 0 },
        );
      }
      expect(seen).toEqual({ submitted: 5, completed: 3, failed: 1 });
      // Five attempts started (their wait) and four ended (their run) in those intervals.
      const measured = (key: 'wait' | 'run') => last.history.reduce((n, p) => n + p[key].count, 0);
      expect(measured('wait')).toBe(5);
      expect(measured('run')).toBe(4);
      for (const p of last.history) {
        if (p.run.count === 0) expect(p.run).toEqual({ count: 0, mean: null, p95: null });
        else expect(p.run.mean).toBeGreaterThanOrEqual(0);
      }
      expect(last.snapshot.running).toEqual([
        expect.objectContaining({ handle: running.handle, numerator: 1, denominator: 2 }),
      ]);
      worker.workComplete(running, 'ok');
      await feed.cancel();
    } finally {
      await served.close();
    }
  });

  it('skips an update the job server cannot answer, and sends the next', async () => {
    server = createJobServer();
    const served = await serveDashboard(server, { processMetrics: false, interval: 50 });
    try {
      // The first update's look at the functions fails, as a shared queue out of reach.
      const functions = server.functions.bind(server);
      let failures = 1;
      server.functions = () =>
        failures-- > 0 ? Promise.reject(new Error('out of reach')) : functions();
      const response = await fetch(`http://127.0.0.1:${served.address.port}/api/events`);
      const feed = updates(response.body!);
      const first = await feed.next();
      expect(failures).toBeLessThan(0);
      expect(first.snapshot.totals.functions).toBe(0);
      expect(first.history).toEqual([]);
      await feed.cancel();
    } finally {
      await served.close();
    }
  });

  it('refuses an interval under 50 ms', () => {
    server = createJobServer();
    expect(() => createDashboardHandler(server!, { interval: 0 })).toThrow(InvalidArgumentError);
  });
});
