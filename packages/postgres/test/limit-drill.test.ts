// Issue 32, item 6: the global limit drill. A function limited to 5 starts a second, its
// jobs worked by three nodes (each its own sessions and pool on one PostgreSQL) for 30 s:
// in no second, on the database's clock, do more than 5 of its jobs start. The starts are
// read from the kept outcomes (`started_at`, stamped by the claim on the database's clock),
// so no node's timer or network lateness blurs the windows.
import type { JobServer } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  until,
  type PostgresServer,
} from './support.js';

const RATE = { max: 5, duration: 1000 };
const JOBS = 150; // 30 s at the limit

describeWithPostgres('@geartrain/postgres: a global rate limit across three nodes', () => {
  let db: PostgresServer;
  const servers: JobServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    await db?.stop();
  }, 60_000);

  it(`starts at most ${RATE.max} jobs in any ${RATE.duration} ms across three nodes, for 30 s`, async () => {
    const schema = freshSchema('limit');
    const nodes = ['A', 'B', 'C'].map((name) => nodeOn(db, schema, { nodeName: name }));
    servers.push(...nodes);
    await Promise.all(nodes.map((node) => node.ready));
    const [a, b, c] = nodes as [JobServer, JobServer, JobServer];
    await a.setFunctionLimits('pay', { rate: RATE });
    await b.setJobPolicy('pay', { attempts: 1, keep: { completed: { count: JOBS } } });
    let done = 0;
    const byNode = [0, 0, 0];
    for (const [k, node] of nodes.entries()) {
      // Each node's workers could start far more than the limit at once.
      node.worker().register(
        'pay',
        () => {
          byNode[k]!++;
          done++;
          return 'paid';
        },
        { concurrency: 20 },
      );
    }
    const client = c.client();
    for (let i = 0; i < JOBS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          client.submit('pay', `payment ${i + k}`, { background: true }),
        ),
      );
    }
    await until(() => done === JOBS, 'every payment to run', 45_000);
    const out = await db.psql(
      `SELECT extract(epoch from started_at) * 1000 FROM ${schema}.outcomes
       WHERE function_name = 'pay' ORDER BY started_at`,
    );
    const starts = out.split('\n').map(Number);
    expect(starts).toHaveLength(JOBS);
    // Sliding windows: the (i + max)th start is at least a window after the ith.
    let tightest = Infinity;
    for (let i = RATE.max; i < starts.length; i++) {
      const gap = starts[i]! - starts[i - RATE.max]!;
      tightest = Math.min(tightest, gap);
      expect(
        gap,
        `starts ${i - RATE.max + 1} and ${i + 1}: ${RATE.max + 1} in ${gap.toFixed(1)} ms`,
      ).toBeGreaterThanOrEqual(RATE.duration);
    }
    const seconds = (starts.at(-1)! - starts[0]!) / 1000;
    console.log(
      `limit drill: ${JOBS} starts in ${seconds.toFixed(1)} s (${(JOBS / seconds).toFixed(2)}/s), ` +
        `tightest ${RATE.max + 1} starts ${tightest.toFixed(1)} ms apart; by node ${byNode.join('/')}`,
    );
    // Every node took part: the limit held across them, not because one did all the work.
    expect(byNode.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
