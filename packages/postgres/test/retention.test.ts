// Outcome retention: bounded batches of deletes (never one per row, never all at once), the
// newest kept by count, the old ones dropped by age, and when the next one expires.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PostgresQueue } from '../src/index.js';
import {
  describeWithPostgres,
  freshSchema,
  openBackend,
  startPostgres,
  submission,
  type PostgresServer,
} from './support.js';

/** Submits, claims and completes `n` jobs of `fn` on `queue`; resolves with their ids. */
async function completeJobs(queue: PostgresQueue, fn: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < n; done += 500) {
    const size = Math.min(500, n - done);
    await queue.submit(Array.from({ length: size }, (_, i) => submission(fn, `${done + i}`)));
    const jobs = await queue.claim(new Map([[fn, size]]));
    expect(jobs).toHaveLength(size);
    const outcomes = await queue.report(
      jobs.map((job) => ({
        handle: job.handle,
        attempt: job.attempt,
        end: { kind: 'complete' as const, data: Buffer.from('ok') },
      })),
    );
    expect(outcomes.every((o) => o.state === 'completed')).toBe(true);
    ids.push(...jobs.map((job) => job.handle.slice(job.handle.lastIndexOf(':') + 1)));
  }
  return ids;
}

describeWithPostgres('@geartrain/postgres outcome retention', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it('deletes outcomes past their count in batches of at most 1,000, keeping the newest', async () => {
    const schema = freshSchema('count');
    const { queue } = await openBackend(db.connectionString, schema);
    try {
      await queue.saveSettings('kept', {
        functionName: 'kept',
        keep: { completed: { count: 10 } },
      });
      const ids = await completeJobs(queue, 'kept', 2500);
      expect(await db.psql(`select count(*) from ${schema}.outcomes`)).toBe('2500');
      const deleted: number[] = [];
      for (let pass = 0; pass < 10; pass++) {
        const { ran, deleted: n, nextExpiry } = await queue.retainNow();
        expect(ran).toBe(true);
        expect(nextExpiry, 'no age limit: no expiry').toBeNull();
        deleted.push(n);
        if (n < 1000) break;
      }
      expect(deleted).toEqual([1000, 1000, 490]);
      const left = await db.psql(
        `select string_agg(id::text, ',' order by id) from ${schema}.outcomes`,
      );
      const newest = [...ids].sort((a, b) => Number(a) - Number(b)).slice(-10);
      expect(left.split(',')).toEqual(newest);
    } finally {
      await queue.close();
    }
  });

  it('drops outcomes past their age, and says when the oldest left expires', async () => {
    const schema = freshSchema('age');
    const { queue } = await openBackend(db.connectionString, schema);
    try {
      await queue.saveSettings('aged', {
        functionName: 'aged',
        keep: { completed: { age: 60_000 } },
      });
      await completeJobs(queue, 'aged', 3);
      const fresh = await queue.retainNow();
      expect(fresh.deleted).toBe(0);
      // The oldest of three outcomes just kept expires in a minute.
      expect(fresh.nextExpiry).toBeGreaterThan(50_000);
      expect(fresh.nextExpiry).toBeLessThanOrEqual(60_000);
      await db.psql(
        `update ${schema}.outcomes set ended_at = now() - interval '2 minutes' where id = (select min(id) from ${schema}.outcomes)`,
      );
      const aged = await queue.retainNow();
      expect(aged.deleted).toBe(1);
      expect(await db.psql(`select count(*) from ${schema}.outcomes`)).toBe('2');
    } finally {
      await queue.close();
    }
  });
});
