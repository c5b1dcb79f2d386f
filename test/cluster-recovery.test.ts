// Issue 31, items 4 and 7, on `geartrain serve --store postgres://…` child processes: how
// soon another node's worker has the job of a node killed with -9 or stopped with SIGSTOP;
// that the stopped node's late WORK_COMPLETE changes nothing; PostgreSQL restarted under
// load; and that a notification wakes no more workers than there are jobs. Every node is
// stopped by its PID; every wait is bounded.
import { createClient, createWorker, type GearmanClient } from '@geartrain/client';
import type { GearmanWorker } from '@geartrain/client';
import type { Packet } from '@geartrain/protocol';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { pause, startNode, until } from './support/cluster.js';
import type { ServedCommand } from './support/command.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';
import { RawPeer } from './support/raw-peer.js';

describeWithPostgres('recovery across geartrain serve nodes on PostgreSQL', () => {
  let db: PostgresServer;
  const started: ServedCommand[] = [];
  const clients: GearmanClient[] = [];
  const workers: GearmanWorker[] = [];
  const peers: RawPeer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    for (const client of clients.splice(0)) client.close();
    for (const worker of workers.splice(0)) await worker.close({ timeout: 0 });
    for (const node of started.splice(0)) {
      // A node left stopped by a failed test takes no signal but SIGCONT first.
      if (node.child.exitCode === null) node.child.kill('SIGCONT');
      await node.stop('SIGKILL');
    }
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  /** A node on a fresh queue schema (the command's default, dropped first by `fresh`). */
  async function node(args: string[] = []): Promise<ServedCommand> {
    const served = await startNode(db, 0, args);
    started.push(served);
    return served;
  }

  async function fresh(): Promise<void> {
    await db.psql('drop schema if exists geartrain cascade');
  }

  function clientOf(served: ServedCommand): GearmanClient {
    const client = createClient({ servers: [served.address], connectTimeout: 1000 });
    clients.push(client);
    return client;
  }

  function workerOf(served: ServedCommand): GearmanWorker {
    const worker = createWorker({
      servers: [served.address],
      connectTimeout: 1000,
      maxReconnectDelay: 200,
    });
    workers.push(worker);
    return worker;
  }

  /** A worker on `served` that records when it is given each job, and holds it. */
  function holder(served: ServedCommand, fn: string) {
    const taken: { handle: string; at: number; finish: (result: string) => void }[] = [];
    workerOf(served).register(fn, (job) => {
      return new Promise<string>((resolve) => {
        taken.push({ handle: job.handle, at: Date.now(), finish: resolve });
      });
    });
    return taken;
  }

  /** A raw worker for `fn` on `served` that takes one job (assigned once it is woken). */
  async function rawTake(served: ServedCommand, fn: string, submit: () => Promise<string>) {
    const peer = await RawPeer.connect(served.port);
    peers.push(peer);
    peer.send({ type: 'CAN_DO', functionName: fn }, { type: 'PRE_SLEEP' });
    await peer.barrier();
    peer.on('NOOP', () => peer.send({ type: 'GRAB_JOB_UNIQ' }));
    peer.on('NO_JOB', () => peer.send({ type: 'PRE_SLEEP' }));
    const handle = await submit();
    const assigned = await peer.next('JOB_ASSIGN_UNIQ');
    expect(assigned.handle).toBe(handle);
    return peer;
  }

  it('gives the job of a node killed with -9 to a worker of another node within 2 s', async () => {
    await fresh();
    const a = await node();
    const b = await node();
    const onA = holder(a, 'rescued');
    const job = await clientOf(a).submit('rescued', 'x', { background: true });
    await until(() => onA.length === 1, 'the worker on A to take the job');
    const onB = holder(b, 'rescued');
    const killed = Date.now();
    await a.stop('SIGKILL');
    await until(() => onB.length === 1, "B's worker to get the job", 10_000);
    const recovery = onB[0]!.at - killed;
    console.log(`kill -9: a worker on another node had the job ${recovery} ms later`);
    expect(onB[0]!.handle).toBe(job.handle);
    expect(recovery).toBeLessThanOrEqual(2000);
    onB[0]!.finish('done');
  });

  it("gives the job of a stopped node to another within its lease plus a second; the stopped node's late WORK_COMPLETE changes nothing", async () => {
    await fresh();
    const policy = ['--job-policy', 'hung keep-completed=all'];
    // Warnings logged: the stale report is one.
    const a = await node([...policy, '-v', 'WARNING']);
    const b = await node(policy);
    const client = clientOf(b);
    let handle = '';
    const onA = await rawTake(a, 'hung', async () => {
      handle = (await clientOf(a).submit('hung', 'x', { background: true })).handle;
      return handle;
    });
    const onB = holder(b, 'hung');
    const pid = a.child.pid!;
    const stopped = Date.now();
    process.kill(pid, 'SIGSTOP');
    await until(() => onB.length === 1, "B's worker to get the job", 15_000);
    const recovery = onB[0]!.at - stopped;
    console.log(`SIGSTOP: a worker on another node had the job ${recovery} ms later (lease 10 s)`);
    expect(onB[0]!.handle).toBe(handle);
    expect(recovery).toBeLessThanOrEqual(11_000);

    // A's worker completes while A is stopped: the packet waits in A's socket, and A reads
    // it as it wakes, before or after it learns that it was reaped.
    onA.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('from A, too late') });
    const errorsBefore = onA.received('ERROR').length;
    process.kill(pid, 'SIGCONT');
    await onA.barrier();
    const refusedByA = onA.received('ERROR').length > errorsBefore;
    if (!refusedByA) {
      // A took it and reported it: the fenced write matched nothing, and A said so.
      await until(
        () => a.stderr().includes('a report for an attempt this node no longer holds'),
        "A's log of the stale report",
      );
    }
    console.log(
      `the stale WORK_COMPLETE was ${refusedByA ? 'refused by A (JOB_NOT_FOUND)' : 'fenced off by the database'}`,
    );
    // Nothing changed: B's attempt still runs, on every node's word.
    for (const asked of [client, clientOf(a)]) {
      expect(await asked.status(handle)).toMatchObject({ known: true, running: true });
    }
    onB[0]!.finish('from B');
    await until(
      async () => (await db.psql('select count(*) from geartrain.jobs')) === '0',
      'the job to end',
    );
    expect(
      await db.psql("select state, convert_from(result, 'UTF8'), attempts from geartrain.outcomes"),
    ).toBe('completed|from B|2');
  }, 60_000);

  it('loses no acknowledged job when PostgreSQL restarts under load', async () => {
    await fresh();
    const nodes = [await node(), await node(), await node()];
    const done = new Set<string>();
    for (const served of nodes) {
      workerOf(served).register(
        'steady',
        (job) => {
          done.add(job.handle);
          return 'ok';
        },
        { concurrency: 4 },
      );
    }
    const submitters = nodes.map(clientOf);
    const acknowledged = new Set<string>();
    let refused = 0;
    let restarted = 0;
    const begun = Date.now();
    const load = (async () => {
      // Until two seconds after the restart.
      for (let i = 0; restarted === 0 || Date.now() - restarted < 2000; i++) {
        if (Date.now() - begun > 60_000) throw new Error('the restart never ended');
        await Promise.all(
          submitters.map((client, k) =>
            client.submit('steady', `${k}-${i}`, { background: true }).then(
              (job) => acknowledged.add(job.handle),
              () => refused++,
            ),
          ),
        );
        await pause(5);
      }
    })();
    await until(() => acknowledged.size >= 150, 'some load before the restart');
    await db.restart();
    restarted = Date.now();
    await load;
    await until(
      () => [...acknowledged].every((handle) => done.has(handle)),
      () =>
        `every acknowledged job to complete (${[...acknowledged].filter((h) => !done.has(h)).length} of ${acknowledged.size} left)`,
      30_000,
    );
    console.log(
      `restart under load: ${acknowledged.size} acknowledged, all completed; ${refused} refused`,
    );
  }, 90_000);

  it('wakes no more sleeping workers of another node than there are jobs', async () => {
    await fresh();
    const a = await node();
    const b = await node();
    // Ten raw workers sleep on B; each answers a NOOP with a grab, and completes what it gets.
    const sleepers: RawPeer[] = [];
    for (let i = 0; i < 10; i++) {
      const peer = await RawPeer.connect(b.port);
      peers.push(peer);
      peer.send({ type: 'CAN_DO', functionName: 'woken' }, { type: 'PRE_SLEEP' });
      await peer.barrier();
      peer.on('NOOP', () => peer.send({ type: 'GRAB_JOB_UNIQ' }));
      peer.on('NO_JOB', () => peer.send({ type: 'PRE_SLEEP' }));
      peer.on('JOB_ASSIGN_UNIQ', (job: Extract<Packet, { type: 'JOB_ASSIGN_UNIQ' }>) => {
        peer.send({ type: 'WORK_COMPLETE', handle: job.handle, data: Buffer.from('ok') });
        peer.send({ type: 'PRE_SLEEP' });
      });
      sleepers.push(peer);
    }
    const client = clientOf(a);
    const jobs = await Promise.all(
      [1, 2, 3].map((i) => client.submit('woken', `${i}`, { background: true })),
    );
    await until(
      () => sleepers.reduce((n, p) => n + p.received('JOB_ASSIGN_UNIQ').length, 0) === 3,
      'the three jobs to be assigned on B',
    );
    for (const peer of sleepers) await peer.barrier();
    const noops = sleepers.reduce((n, p) => n + p.received('NOOP').length, 0);
    console.log(`3 jobs submitted on A woke ${noops} of 10 sleeping workers on B`);
    expect(noops).toBeGreaterThanOrEqual(1);
    expect(noops).toBeLessThanOrEqual(jobs.length);
  });
});
