// Liveness: a node whose process dies (its connections cut: the database sees its sessions
// end, as after a kill -9) loses its running jobs to the others within 2 s; a hung node (its
// connections frozen: a SIGSTOP, a network that drops everything) within its lease plus a
// second; a node that finds itself reaped gives up what it held.
import type { JobContext, JobServer } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  backendOf,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  proxyTo,
  startPostgres,
  until,
  type PostgresServer,
  type Proxy,
} from './support.js';

interface Taken {
  job: JobContext;
  at: number;
}

/** A worker on `server` that records the jobs it is given and holds them until released. */
function holder(server: JobServer, functionName: string) {
  const taken: Taken[] = [];
  const release: (() => void)[] = [];
  const worker = server.worker().register(functionName, (job) => {
    taken.push({ job, at: Date.now() });
    return new Promise<string>((resolve) => {
      release.push(() => resolve('done'));
      job.signal.addEventListener('abort', () => resolve(''));
    });
  });
  return { taken, release, worker };
}

describeWithPostgres('@geartrain/postgres liveness', () => {
  let db: PostgresServer;
  const proxies: Proxy[] = [];
  const servers: JobServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    for (const proxy of proxies) await proxy.close();
    await db?.stop();
  }, 60_000);

  async function nodes(schema: string, lease: number, heartbeat: number) {
    const proxy = await proxyTo(db);
    proxies.push(proxy);
    // Node A reaches the database through the proxy, so the test can cut or freeze it.
    const a = nodeOn(
      { ...db, connectionString: proxy.connectionString },
      schema,
      { nodeName: 'A' },
      { lease, heartbeat },
    );
    const b = nodeOn(db, schema, { nodeName: 'B' }, { lease, heartbeat });
    servers.push(a, b);
    await Promise.all([a.ready, b.ready]);
    return { a, b, proxy };
  }

  it('gives the running job of a node whose sessions ended to another within 2 s', async () => {
    const { a, b, proxy } = await nodes(freshSchema('kill'), 10_000, 1000);
    const onA = holder(a, 'kill9');
    const job = await a.client().submit('kill9', 'x', { background: true });
    await until(() => onA.taken.length === 1, 'node A to take the job');
    const onB = holder(b, 'kill9');
    const killed = Date.now();
    proxy.kill();
    await until(() => onB.taken.length === 1, 'node B to get the job', 5000);
    const recovery = onB.taken[0]!.at - killed;
    expect(onB.taken[0]!.job.handle).toBe(job.handle);
    expect(onB.taken[0]!.job.attempt, 'the lost attempt counts').toBe(2);
    expect(recovery, `recovered after ${recovery} ms`).toBeLessThan(2000);
    console.log(`kill: node B had the job ${recovery} ms after node A's sessions ended`);
    onB.release[0]!();
    await until(async () => !(await b.status(job.handle)).known, 'the job to end');
  });

  it('gives the job of a hung node to another within its lease plus a second; the hung node then lets it go', async () => {
    const lease = 1500;
    const { a, b, proxy } = await nodes(freshSchema('hang'), lease, 250);
    const onA = holder(a, 'hang');
    const job = await a.client().submit('hang', 'x', { background: true });
    await until(() => onA.taken.length === 1, 'node A to take the job');
    const onB = holder(b, 'hang');
    const frozen = Date.now();
    proxy.freeze();
    await until(() => onB.taken.length === 1, 'node B to get the job', lease + 4000);
    const recovery = onB.taken[0]!.at - frozen;
    expect(onB.taken[0]!.job.attempt).toBe(2);
    expect(recovery, `recovered after ${recovery} ms`).toBeLessThan(lease + 1000);
    console.log(`freeze: node B had the job ${recovery} ms after node A froze (lease ${lease})`);

    // A comes back: it finds itself reaped and gives the job up (its worker's signal fires).
    proxy.thaw();
    await until(() => onA.taken[0]!.job.signal.aborted, "node A's job to be aborted", 10_000);
    expect(backendOf(a).queue.stats.reapedHere).toBeGreaterThanOrEqual(1);
    // Node B's attempt is the one that counts.
    onB.release[0]!();
    await until(async () => !(await a.status(job.handle)).known, 'the job to end, seen from A');
    expect(await b.outcome(job.handle)).toBeUndefined();
  });

  it("drops the queued foreground jobs of a dead node's clients; a client on B of a job A ran gets it run again", async () => {
    const { a, b, proxy } = await nodes(freshSchema('fgdead'), 10_000, 1000);
    // Queued, waited for on A only: dropped with A. Waited for on A and B: kept.
    const lonely = await a.client().submit('nobody-works', 'lonely');
    const shared = await a.client().submit('nobody-works', 'shared', { unique: 'both' });
    const onB = await b.client().submit('nobody-works', 'shared', { unique: 'both' });
    expect(onB.handle).toBe(shared.handle);
    // Running on A, waited for on B: run again on B once A is gone.
    const onA = holder(a, 'held-by-a');
    const fromB = await b.client().submit('held-by-a', 'x');
    await until(() => onA.taken.length === 1, 'node A to take the job');
    proxy.kill();
    const rerun = holder(b, 'held-by-a');
    await until(() => rerun.taken.length === 1, 'node B to run the job again', 5000);
    expect(rerun.taken[0]!.job.handle).toBe(fromB.handle);
    rerun.release[0]!();
    expect((await fromB.result).toString()).toBe('done');
    await until(async () => !(await b.status(lonely.handle)).known, "A's lonely job to go", 5000);
    expect((await b.status(shared.handle)).known, "the job B's client waits for stays").toBe(true);
    const late = holder(b, 'nobody-works');
    await until(() => late.taken.length === 1, "node B's worker to run the job kept");
    expect(late.taken.map((t) => t.job.text())).toEqual(['shared']);
    late.release[0]!();
    expect((await onB.result).toString()).toBe('done');
  });
});
