// Background jobs across nodes in one process (issue 31, item 2): delayed jobs come due on
// every node without a leader, and priorities order the jobs a worker of several functions
// is given.
import type { JobOutcome, JobServer } from '@geartrain/core';
import { createClient } from '@geartrain/client';
import { GearmanServer } from '@geartrain/tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  until,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres across nodes', () => {
  let db: PostgresServer;
  const servers: JobServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(async () => {
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    await db?.stop();
  });

  async function cluster(schema: string, names: string[]): Promise<JobServer[]> {
    const nodes = names.map((nodeName) => nodeOn(db, schema, { nodeName }));
    servers.push(...nodes);
    await Promise.all(nodes.map((node) => node.ready));
    return nodes;
  }

  it('starts a delayed job submitted on one node at its time on another, at most 100 ms late', async () => {
    const schema = freshSchema('delayed');
    const [a, b, c] = await cluster(schema, ['A', 'B', 'C']);
    // Workers on B and C only, idle: their first claims find nothing.
    const started = new Map<string, number>();
    for (const node of [b!, c!]) {
      node.worker().register(
        'later',
        (job) => {
          started.set(job.handle, Date.now());
          return 'ok';
        },
        { concurrency: 4 },
      );
    }
    // Kept outcomes carry the submission and the claim, both on the database's clock.
    await a!.setJobPolicy('later', { keep: { completed: { count: 100 } } });
    const delays = [300, 450, 600, 750, 900, 1050];
    const jobs = await Promise.all(
      delays.map((delay, i) =>
        a!.client().submit('later', `job-${i}`, { background: true, delay }),
      ),
    );
    await until(() => started.size === jobs.length, 'every delayed job to start', 10_000);
    const lateness: number[] = [];
    for (const [i, { handle }] of jobs.entries()) {
      let outcome: JobOutcome | undefined;
      await until(
        async () => (outcome = await c!.outcome(handle)) !== undefined,
        `the outcome of ${handle}`,
      );
      const { queuedAt, startedAt } = outcome!;
      lateness.push(startedAt - (queuedAt + delays[i]!));
    }
    console.log(`delayed jobs started late by ${lateness.join(', ')} ms`);
    for (const late of lateness) {
      expect(late, 'never early').toBeGreaterThanOrEqual(0);
      expect(late, 'at most 100 ms late').toBeLessThanOrEqual(100);
    }
  });

  it("orders a worker's jobs by priority across its functions, then in turns, as the local queue", async () => {
    const schema = freshSchema('priority');
    const [a, b] = await cluster(schema, ['A', 'B']);
    const client = a!.client();
    for (const fn of ['fa', 'fb', 'fc']) {
      for (let i = 1; i <= 2; i++) await client.submit(fn, `${fn}${i}`, { background: true });
    }
    await client.submit('fc', 'fc-high', { background: true, priority: 'high' });
    // A worker on B, as the TCP adapter drives one: it sleeps, is woken, grabs one at a time.
    let woken = 0;
    const worker = b!.connect({ sink: { wake: () => woken++ } });
    for (const fn of ['fa', 'fb', 'fc']) worker.canDo(fn);
    expect(worker.grab(), 'nothing is at hand before the node claims').toBeUndefined();
    worker.preSleep();
    await until(() => woken > 0, 'the worker to be woken by the claim');
    const order: string[] = [];
    for (let job = worker.grab(); job !== undefined; job = worker.grab()) {
      order.push(job.payload.toString());
      worker.workComplete(job);
    }
    expect(order).toEqual(['fc-high', 'fa1', 'fb1', 'fc1', 'fa2', 'fb2', 'fc2']);
    worker.close();
  });

  it("runs a foreground job submitted on A (in process and over TCP) on B's worker", async () => {
    const schema = freshSchema('foreground');
    const [a, b] = await cluster(schema, ['A', 'B']);
    b!
      .worker()
      .register('fg', (job) => {
        job.status(1, 2);
        return `from B: ${job.text()}`;
      })
      .start();
    expect((await a!.client().run('fg', 'in process')).toString()).toBe('from B: in process');
    const listener = new GearmanServer(a!);
    await listener.listen({ host: '127.0.0.1', port: 0 });
    const tcp = createClient({ servers: [`127.0.0.1:${listener.address!.port}`] });
    try {
      const overTcp = await tcp.submit('fg', 'over TCP');
      const statuses: unknown[] = [];
      overTcp.events$.subscribe((u) => {
        if (u.type === 'status') statuses.push([u.numerator, u.denominator]);
      });
      expect((await overTcp.result).toString()).toBe('from B: over TCP');
      expect(statuses).toEqual([[1, 2]]);
    } finally {
      tcp.close();
      await listener.close();
    }
  });
});
