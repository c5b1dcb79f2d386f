// The thread pool behind TCP workers: the same pool, attached through a worker factory,
// serving a geartrain and a gearmand; progress from inside a thread reaches a TCP client.
import { createClient, createWorker } from '@geartrain/client';
import { attachThreadPool, type ThreadPool } from '@geartrain/threads';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { describeOnBothServers } from './support/interop.js';

const handlers = new URL('../packages/threads/test/fixtures/handlers.mjs', import.meta.url)
  .pathname;

let pool: ThreadPool | undefined;
afterEach(async () => {
  await pool?.close({ timeout: 0 });
  pool = undefined;
});

describeOnBothServers([], 'a thread pool of TCP workers', (server) => {
  it('serves jobs from threads, with progress reaching a TCP client', async () => {
    const servers = [`127.0.0.1:${server().port}`];
    pool = attachThreadPool(() => createWorker({ servers }), {
      threads: 2,
      functions: { progress: { module: handlers, export: 'progress' }, echo: handlers },
    });
    await pool.ready;
    const client = createClient({ servers });
    try {
      const job = await client.submit('progress', 'over tcp');
      const updates = await lastValueFrom(job.events$.pipe(toArray()));
      expect(updates.map((u) => u.type)).toEqual([
        'status',
        'data',
        'warning',
        'status',
        'complete',
      ]);
      expect(await job.json()).toMatchObject({ text: 'over tcp' });
      const results = await client.runAll(
        Array.from({ length: 50 }, (_, i) => ({ functionName: 'echo', payload: `e${i}` })),
      );
      expect(results.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
      expect(pool.stats.jobsRun).toBe(51);
    } finally {
      client.close();
    }
  });
});
