// The fenced writes keep their cost in proportion to their batch when the hot table's
// statistics say it is empty (sql-jobs.ts: no fenced write joins the table to its batch).
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { completeStatement, progressStatement, reportStatement } from '../src/sql-jobs.js';
import {
  client,
  describeWithPostgres,
  freshSchema,
  openBackend,
  startPostgres,
  submission,
  type PostgresServer,
} from './support.js';

type PlanNode = Record<string, unknown>;

/** Rows every node of a plan produced, over all its loops: the work the plan did. */
function rowsProduced(plan: PlanNode): number {
  let total = (plan['Actual Rows'] as number) * (plan['Actual Loops'] as number);
  for (const child of (plan['Plans'] as PlanNode[] | undefined) ?? []) total += rowsProduced(child);
  return total;
}

const JOBS = 2000;

/** An array parameter as a literal of EXECUTE (which takes no protocol parameters). */
function literal(values: readonly (string | number | boolean | null)[]): string {
  const items = values.map((v) => (v === null ? 'NULL' : String(v)));
  return pg.escapeLiteral(`{${items.join(',')}}`);
}

describeWithPostgres('@geartrain/postgres plans under a wrong estimate', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it('completes, gives back and updates the progress of 2,000 jobs in work proportional to them after the queue was vacuumed empty', async () => {
    const schema = freshSchema('plans');
    const s = pg.escapeIdentifier(schema);
    const { queue, id } = await openBackend(db.connectionString, schema);
    const c = await client(db);
    try {
      // Filled and emptied once, so that the table has pages; then vacuumed and analysed
      // while empty: its statistics say no row from here on, however many come.
      for (let i = 0; i < JOBS; i += 500) {
        await queue.submit(Array.from({ length: 500 }, (_, k) => submission('f', `${i + k}`)));
      }
      await c.query(`DELETE FROM ${s}.jobs`);
      await c.query(`VACUUM ANALYZE ${s}.jobs`);
      const { rows: stats } = await c.query<{ reltuples: number }>(
        `SELECT reltuples FROM pg_class WHERE oid = '${s}.jobs'::regclass`,
      );
      expect(stats[0]!.reltuples).toBe(0);

      for (let i = 0; i < JOBS; i += 500) {
        await queue.submit(Array.from({ length: 500 }, (_, k) => submission('f', `${i + k}`)));
      }
      const claimed = await queue.claim(new Map([['f', JOBS]]));
      expect(claimed).toHaveLength(JOBS);
      const ids = claimed.map((job) => job.handle.split(':').pop()!);
      const attempts = claimed.map((job) => job.attempt);
      const nodes = claimed.map(() => id);
      const n = JOBS;
      const statements: [string, string, unknown[]][] = [
        ['complete', completeStatement(s).text, [ids, attempts, nodes]],
        [
          'give back',
          reportStatement(s).text,
          [
            ids,
            attempts,
            ids.map(() => 'u'),
            ids.map(() => 0),
            ids.map(() => null),
            ids.map(() => null),
            ids.map(() => null),
            ids.map(() => false),
            ids.map(() => false),
            nodes,
            ids.map(() => null),
          ],
        ],
        [
          'progress',
          progressStatement(s).text,
          [ids, attempts, ids.map(() => 1), ids.map(() => 2), nodes],
        ],
      ];
      // Each planned as a prepared statement's generic plan would be, and as a custom one.
      for (const mode of ['force_generic_plan', 'force_custom_plan']) {
        await c.query(`SET plan_cache_mode = ${mode}`);
        for (const [what, text, values] of statements) {
          await c.query('BEGIN');
          try {
            await c.query(`PREPARE fenced AS ${text}`);
            const args = values
              .map((v) => literal(v as (string | number | boolean | null)[]))
              .join(', ');
            const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
              `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE fenced(${args})`,
            );
            const plan = rows[0]!['QUERY PLAN'][0].Plan;
            // A join driven from the table scanned the batch once per row of the table:
            // millions of rows for 2,000 (33 million for 1,512 before the fix).
            expect(rowsProduced(plan), `${what}, ${mode}`).toBeLessThan(20 * n);
          } finally {
            await c.query('ROLLBACK');
            await c.query('DEALLOCATE fenced');
          }
        }
      }
    } finally {
      await c.end();
      await queue.close();
    }
  });
});
