// Claims, fenced reports and coalescing, on the backend itself (as a node drives it).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimStatement } from '../src/sql-jobs.js';
import pg from 'pg';
import {
  client,
  describeWithPostgres,
  freshSchema,
  openBackend,
  proxyTo,
  startPostgres,
  submission,
  until,
  type PostgresServer,
} from './support.js';

/**
 * Rows the LockRows nodes of a plan locked, summed (EXPLAIN shows a per-loop average, exact
 * when each node runs once: one function asked for).
 */
function lockedRows(plan: Record<string, unknown>): number {
  let total = 0;
  if (plan['Node Type'] === 'LockRows') {
    total += (plan['Actual Rows'] as number) * (plan['Actual Loops'] as number);
  }
  for (const child of (plan['Plans'] as Record<string, unknown>[] | undefined) ?? []) {
    total += lockedRows(child);
  }
  return total;
}

describeWithPostgres('@geartrain/postgres claims and reports', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it('claims in order (priority, then submission) and locks no more rows than asked', async () => {
    const schema = freshSchema('limit');
    const { queue, id } = await openBackend(db.connectionString, schema);
    try {
      const batch = [];
      for (let i = 0; i < 300; i++) {
        const priority = (['low', 'normal', 'high'] as const)[i % 3];
        batch.push(submission('f', `job-${i}`, { priority, delay: i % 5 === 0 ? 60_000 : 0 }));
      }
      await queue.submit(batch);
      const c = await client(db);
      try {
        await c.query('ANALYZE ' + pg.escapeIdentifier(schema) + '.jobs');
        for (const n of [1, 3, 7]) {
          await c.query('BEGIN');
          const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) ${claimStatement(pg.escapeIdentifier(schema)).text}`,
            [['f'], [n], id],
          );
          await c.query('ROLLBACK');
          expect(lockedRows(rows[0]!['QUERY PLAN'][0].Plan), `rows locked for ${n}`).toBe(n);
        }
      } finally {
        await c.end();
      }
      const claimed = await queue.claim(new Map([['f', 5]]));
      expect(claimed.map((j) => [j.priority, j.payload.toString(), j.attempt])).toEqual([
        ['high', 'job-2', 1],
        ['high', 'job-8', 1],
        ['high', 'job-11', 1],
        ['high', 'job-14', 1],
        ['high', 'job-17', 1],
      ]);
    } finally {
      await queue.close();
    }
  });

  it('two nodes claiming at once never get the same job', async () => {
    const schema = freshSchema('race');
    const a = await openBackend(db.connectionString, schema);
    const b = await openBackend(db.connectionString, schema);
    try {
      await a.queue.submit(Array.from({ length: 200 }, (_, i) => submission('f', String(i))));
      const seen: string[] = [];
      for (let round = 0; round < 20; round++) {
        const [x, y] = await Promise.all([
          a.queue.claim(new Map([['f', 7]])),
          b.queue.claim(new Map([['f', 7]])),
        ]);
        seen.push(...x.map((j) => j.handle), ...y.map((j) => j.handle));
      }
      expect(seen.length).toBe(200);
      expect(new Set(seen).size).toBe(200);
    } finally {
      await a.queue.close();
      await b.queue.close();
    }
  });

  it('coalesces unique ids submitted by two nodes at once onto one job each', async () => {
    const schema = freshSchema('coalesce');
    const a = await openBackend(db.connectionString, schema);
    const b = await openBackend(db.connectionString, schema);
    try {
      for (let round = 0; round < 5; round++) {
        const uniques = Array.from({ length: 40 }, (_, i) => `order-${round}-${i}`);
        const batchOf = (who: string) =>
          uniques.map((unique) => submission('f', `${who}:${unique}`, { unique }));
        const [fromA, fromB] = await Promise.all([
          a.queue.submit(batchOf('a')),
          b.queue.submit(batchOf('b')),
        ]);
        for (let i = 0; i < uniques.length; i++) {
          const x = fromA[i] as { handle: string; coalesced: boolean };
          const y = fromB[i] as { handle: string; coalesced: boolean };
          expect(x.handle, uniques[i]).toBe(y.handle);
          expect([x.coalesced, y.coalesced].sort(), uniques[i]).toEqual([false, true]);
        }
      }
      expect(await db.psql(`select count(*) from ${schema}.jobs`)).toBe('200');
      // Within one batch, the later submissions of a unique id coalesce onto the first.
      const same = await a.queue.submit([
        submission('g', 'first', { unique: 'u' }),
        submission('g', 'second', { unique: 'u' }),
        submission('g', 'other'),
      ]);
      expect(same.map((s) => ('handle' in s ? s.coalesced : s))).toEqual([false, true, false]);
      expect((same[0] as { handle: string }).handle).toBe((same[1] as { handle: string }).handle);
    } finally {
      await a.queue.close();
      await b.queue.close();
    }
  });

  it('refuses a stale report after the job was reaped: it changes nothing', async () => {
    const schema = freshSchema('fence');
    const a = await openBackend(db.connectionString, schema);
    const b = await openBackend(db.connectionString, schema);
    try {
      const [submitted] = await a.queue.submit([submission('f', 'x')]);
      const handle = (submitted as { handle: string }).handle;
      const [job] = await a.queue.claim(new Map([['f', 1]]));
      expect(job).toMatchObject({ handle, attempt: 1 });
      // Node A is taken for hung (its heartbeat older than the lease): B's reaper takes the
      // job back, its attempt counted.
      await db.psql(
        `update ${schema}.nodes set heartbeat_at = now() - interval '1 hour' where id = '${a.id}'`,
      );
      await b.queue.heartbeatNow();
      await until(
        async () => (await db.psql(`select node is null from ${schema}.jobs`)) === 't',
        'the job to be taken back',
      );
      expect(b.queue.stats.recovered).toBe(1);
      expect(b.heard.events).toContainEqual(expect.objectContaining({ type: 'retried', handle }));
      // A, unaware, completes it: stale, and the job is still queued, untouched.
      const [outcome] = await a.queue.report([
        { handle, attempt: 1, end: { kind: 'complete', data: Buffer.from('late') } },
      ]);
      expect(outcome).toEqual({ state: 'stale' });
      expect(a.queue.stats.stale).toBe(1);
      expect(await db.psql(`select node is null, attempts from ${schema}.jobs`)).toBe('t|1');
      // B runs it as attempt 2; A's report of attempt 1 is still stale.
      const [again] = await b.queue.claim(new Map([['f', 1]]));
      expect(again).toMatchObject({ handle, attempt: 2 });
      const [late] = await a.queue.report([
        { handle, attempt: 1, end: { kind: 'fail', thrown: null } },
      ]);
      expect(late).toEqual({ state: 'stale' });
      const [done] = await b.queue.report([
        { handle, attempt: 2, end: { kind: 'complete', data: Buffer.from('ok') } },
      ]);
      expect(done).toEqual({ state: 'completed' });
      expect(await db.psql(`select count(*) from ${schema}.jobs`)).toBe('0');
    } finally {
      await a.queue.close();
      await b.queue.close();
    }
  });

  it('applies the retry policy in the report: back-off, attempts, dead letter', async () => {
    const schema = freshSchema('retry');
    const { queue } = await openBackend(db.connectionString, schema);
    try {
      const retry = { attempts: 2, backoff: { type: 'fixed' as const, delay: 200 } };
      const [s] = await queue.submit([submission('f', 'x', { retry })]);
      const handle = (s as { handle: string }).handle;
      const [first] = await queue.claim(new Map([['f', 1]]));
      const thrown = { name: 'TypeError', message: 'nope', stack: 'TypeError: nope' };
      const [r1] = await queue.report([
        { handle, attempt: first!.attempt, end: { kind: 'fail', thrown } },
      ]);
      expect(r1).toEqual({ state: 'retrying', attempt: 1, reason: 'WORK_FAIL', delay: 200 });
      // Not claimable before its back-off.
      expect(await queue.claim(new Map([['f', 1]]))).toEqual([]);
      let second: { attempt: number } | undefined;
      await until(async () => {
        [second] = await queue.claim(new Map([['f', 1]]));
        return second !== undefined;
      }, 'the retry to come due');
      expect(second!.attempt).toBe(2);
      const [r2] = await queue.report([{ handle, attempt: 2, end: { kind: 'timeout' } }]);
      expect(r2).toEqual({ state: 'failed', reason: 'TIMEOUT' });
      const letter = await queue.outcome(handle);
      expect(letter).toMatchObject({ state: 'failed', reason: 'TIMEOUT', attempts: 2 });
      expect(letter!.payload.toString()).toBe('x');
      expect(letter!.errors.map((e) => [e.attempt, e.reason, e.message, e.name])).toEqual([
        [1, 'WORK_FAIL', 'nope', 'TypeError'],
        [2, 'TIMEOUT', null, null],
      ]);
    } finally {
      await queue.close();
    }
  });

  it('answers a report tried again after its commit went unanswered as done, not stale', async () => {
    const schema = freshSchema('doubt');
    const proxy = await proxyTo(db);
    const a = await openBackend(proxy.connectionString, schema);
    try {
      const [s] = await a.queue.submit([submission('f', 'x')]);
      const handle = (s as { handle: string }).handle;
      await a.queue.claim(new Map([['f', 1]]));
      const report = {
        handle,
        attempt: 1,
        end: { kind: 'complete' as const, data: Buffer.from('ok') },
      };
      // The report reaches the database and commits; its answer never comes back.
      proxy.holdAnswers();
      const first = a.queue.report([report]);
      await until(
        async () => (await db.psql(`select count(*) from ${schema}.jobs`)) === '0',
        'the report to commit',
      );
      proxy.kill();
      await expect(first).rejects.toThrow();
      proxy.revive();
      // The node tries again (as its writes do, until a connection takes it: the other one
      // may not have noticed yet that the proxy cut it): the fence finds nothing, and the
      // backend knows why.
      let again: unknown;
      for (let tries = 0; again === undefined; tries++) {
        again = await a.queue.report([report]).catch((error: unknown) => {
          if (tries === 4 || !/terminated|not queryable/.test(String(error))) throw error;
          return undefined;
        });
      }
      expect(again).toEqual([{ state: 'completed' }]);
      expect(a.queue.stats).toMatchObject({ repeated: 1, stale: 0 });
      // A later report of that attempt is stale, as any.
      expect(await a.queue.report([report])).toEqual([{ state: 'stale' }]);
    } finally {
      await a.queue.close();
      await proxy.close();
    }
  });
});
