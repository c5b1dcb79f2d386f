// Issue 32, item 6: the coalescing fan-in drill. 300 foreground submissions of one unique
// id, sent over TCP to three `geartrain serve` nodes on one PostgreSQL queue, with the only
// worker on one of them: one job runs, and every client gets its result. Every node is a
// child process of this test, stopped by its PID; every wait is bounded.
import { createClient, createWorker, type GearmanClient } from '@geartrain/client';
import type { GearmanWorker } from '@geartrain/client';
import type { SubmittedJob } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNode, until } from './support/cluster.js';
import type { ServedCommand } from './support/command.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

const SUBMISSIONS = 300;

describeWithPostgres('foreground jobs across geartrain serve nodes', () => {
  let db: PostgresServer;
  const nodes: ServedCommand[] = [];
  const clients: GearmanClient[] = [];
  const workers: GearmanWorker[] = [];
  beforeAll(async () => {
    db = await startPostgres();
    for (let i = 0; i < 3; i++) nodes.push(await startNode(db));
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const worker of workers) await worker.close({ timeout: 0 }).catch(() => undefined);
    for (const node of nodes) await node.stop('SIGKILL');
    await db?.stop();
  }, 60_000);

  it(`coalesces ${SUBMISSIONS} foreground submissions of one unique id over three nodes onto one job; every client gets the result`, async () => {
    const [a, b, c] = nodes as [ServedCommand, ServedCommand, ServedCommand];
    const runs: string[] = [];
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = createWorker({ servers: [`127.0.0.1:${c.port}`] });
    workers.push(worker);
    worker.register('fan-in', async (job) => {
      runs.push(job.handle);
      job.status(1, 2);
      // Held until every submission was acknowledged: all of them join the running job.
      await released;
      return `report for ${job.text()}`;
    });
    const submitters = [a, b, c].map((node) => {
      const client = createClient({ servers: [`127.0.0.1:${node.port}`] });
      clients.push(client);
      return client;
    });
    const submitted: Promise<SubmittedJob>[] = [];
    for (let i = 0; i < SUBMISSIONS; i++) {
      submitted.push(
        submitters[i % 3]!.submit('fan-in', `from client ${i}`, { unique: 'monthly-report' }),
      );
    }
    const jobs = await Promise.all(submitted);
    const handles = new Set(jobs.map((job) => job.handle));
    expect(handles.size, 'one job for every submission').toBe(1);
    await until(() => runs.length === 1, 'the worker to run the job', 20_000);
    release!();
    const results = await Promise.all(jobs.map((job) => job.text()));
    expect(new Set(results)).toEqual(new Set([results[0]]));
    expect(results[0]).toMatch(/^report for from client \d+$/);
    expect(runs, 'the job ran once').toHaveLength(1);
    // Once it ended, the unique id is free again: a new submission makes a new job.
    const again = await submitters[1]!.submit('fan-in', 'next month', { unique: 'monthly-report' });
    expect(again.handle).not.toBe(jobs[0]!.handle);
    expect(await again.text()).toBe('report for next month');
  }, 60_000);
});
