// A foreground job's watchers (decision 36): when every node waiting for a queued foreground
// job leaves it at the same moment, it is dropped — each node's drop runs after its own
// write, so the last of them sees the watchers empty (one statement doing both let two
// nodes leaving at once each see the other still there, and the job stayed forever).
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  client,
  describeWithPostgres,
  freshSchema,
  openBackend,
  startPostgres,
  submission,
  type PostgresServer,
} from './support.js';

const JOBS = 40;

describeWithPostgres('@geartrain/postgres foreground watchers', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it(`drops ${JOBS} queued foreground jobs that two nodes leave at the same moment`, async () => {
    const schema = freshSchema('watchers');
    const a = await openBackend(db.connectionString, schema, {}, 'A');
    const b = await openBackend(db.connectionString, schema, {}, 'B');
    const sql = await client(db);
    try {
      const batch = Array.from({ length: JOBS }, (_, i) =>
        submission('nobody-works', `job ${i}`, { unique: `u-${i}`, foreground: true }),
      );
      const onA = await a.queue.submit(batch);
      const onB = await b.queue.submit(batch);
      const handles = onA.map((answer) => ('handle' in answer ? answer.handle : ''));
      expect(onB.map((answer) => ('handle' in answer ? answer.handle : ''))).toEqual(handles);
      const count = async () =>
        Number(
          (
            await sql.query<{ n: string }>(
              `SELECT count(*) AS n FROM ${schema}.jobs WHERE function_name = 'nobody-works'`,
            )
          ).rows[0]!.n,
        );
      expect(await count()).toBe(JOBS);
      // Each job on its own, both nodes at once: as many chances for the two to meet.
      await Promise.all(
        handles.flatMap((handle) => [a.queue.unwatch([handle]), b.queue.unwatch([handle])]),
      );
      expect(await count(), 'jobs left that nobody waits for').toBe(0);
    } finally {
      await sql.end();
      await a.queue.close();
      await b.queue.close();
    }
  });
});
