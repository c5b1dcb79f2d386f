// @geartrain/client against geartrain's TCP server and the reference gearmand: every test
// runs on both (test/support/interop.ts), the cluster tests on three servers of each kind.
import {
  JobExceptionError,
  JobFailedError,
  QueueFullError,
  WorkFail,
  type JobContext,
  type JobUpdate,
  type WorkerEvent,
} from '@geartrain/core';
import {
  createClient,
  createWorker,
  NoServerError,
  ServerLostError,
  type GearmanClient,
  type GearmanWorker,
} from '@geartrain/client';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeOnBothServers,
  describeWithTools,
  eventually,
  freePort,
  startServer,
  type TestServer,
} from './support/interop.js';

/** A latch a handler waits on, released by the test. */
function latch() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

const open: { close(): void }[] = [];
const workers: GearmanWorker[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeout: 0 })));
});

function client(
  servers: string[],
  options: Parameters<typeof createClient>[0] = {},
): GearmanClient {
  const c = createClient({ servers, ...options });
  open.push(c);
  return c;
}

function worker(
  servers: string[],
  options: Parameters<typeof createWorker>[0] = {},
): GearmanWorker {
  const w = createWorker({ servers, reconnectDelay: 20, maxReconnectDelay: 200, ...options });
  workers.push(w);
  return w;
}

const address = (server: TestServer) => `127.0.0.1:${server.port}`;

describeOnBothServers([], 'the TCP client and worker', (server) => {
  it('run a job and return its result, as text and JSON', async () => {
    const servers = [address(server())];
    worker(servers)
      .register('reverse', (job) => job.text().split('').reverse().join(''))
      .register('sum', (job) => job.json<number[]>().reduce((a, b) => a + b, 0));
    const c = client(servers);
    expect((await c.run('reverse', 'hello')).toString()).toBe('olleh');
    const job = await c.submit('sum', JSON.stringify([1, 2, 3]));
    expect(job.handle).toMatch(/^H:/);
    expect(await job.json()).toBe(6);
    expect((await c.echo('ping')).toString()).toBe('ping');
  });

  it('pipeline a task set of 300 jobs on one connection, results in order', async () => {
    const servers = [address(server())];
    worker(servers).register('double', (job) => String(Number(job.text()) * 2), { concurrency: 4 });
    const c = client(servers);
    const tasks = Array.from({ length: 300 }, (_, i) => ({
      functionName: 'double',
      payload: String(i),
    }));
    const results = await c.runAll(tasks);
    expect(results.map((r) => Number(r.toString()))).toEqual(tasks.map((_, i) => i * 2));
    const jobs = await c.submitAll(tasks.slice(0, 10));
    expect(new Set(jobs.map((j) => j.handle)).size).toBe(10);
    expect(await Promise.all(jobs.map((j) => j.text()))).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i * 2)),
    );
  });

  it('refuse names and handles the wire cannot carry with INVALID_ARGUMENT, and still work', async () => {
    const servers = [address(server())];
    const c = client(servers);
    const bad = (value: unknown) => value as string;
    for (const name of [bad(42), bad(undefined), 'a\0b']) {
      await expect(c.submit(name, 'x', { background: true })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    await expect(c.submit('f', 'x', { unique: 'u\0v' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    // Not read as "no server reachable", which is what a bad handle used to come back as.
    for (const handle of [bad(42), bad({ handle: 'H:x:1' }), 'H:\0:1']) {
      await expect(c.status(handle)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(c.statusByUnique(bad(7))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => createClient(null as never)).toThrow(/options must be an object/);
    expect(() => createWorker(null as never)).toThrow(/options must be an object/);
    const job = await c.submit('f', 'x', { background: true });
    expect(await c.status(job.handle)).toMatchObject({ known: true, running: false });
  });

  it('hand out high, then normal, then low priority jobs', async () => {
    const servers = [address(server())];
    const c = client(servers);
    const submitted = [
      await c.submit('p', 'low', { priority: 'low' }),
      await c.submit('p', 'normal'),
      await c.submit('p', 'high', { priority: 'high' }),
    ];
    const order: string[] = [];
    worker(servers).register('p', (job) => void order.push(job.text()));
    await Promise.all(submitted.map((j) => j.result));
    expect(order).toEqual(['high', 'normal', 'low']);
  });

  it('deliver data, warnings and status in order, then the result', async () => {
    const servers = [address(server())];
    worker(servers).register('steps', (job: JobContext) => {
      job.data('a');
      job.status(1, 2);
      job.warning('careful');
      job.status(2, 2);
      return 'done';
    });
    const job = await client(servers).submit('steps');
    const updates = await lastValueFrom(job.events$.pipe(toArray()));
    const text = (u: JobUpdate) =>
      u.type === 'status'
        ? `status ${u.numerator}/${u.denominator}`
        : 'data' in u
          ? `${u.type} ${u.data.toString()}`
          : u.type;
    expect(updates.map(text)).toEqual([
      'data a',
      'status 1/2',
      'warning careful',
      'status 2/2',
      'complete done',
    ]);
  });

  it('poll the status of a background job while the worker reports progress', async () => {
    const servers = [address(server())];
    const step = latch();
    const finish = latch();
    const w = worker(servers);
    w.register('long', async (job) => {
      job.status(1, 3);
      step.release();
      await finish.promise;
    });
    const c = client(servers);
    const job = await c.submit('long', 'x', { background: true });
    await step.promise;
    // The status travels worker → server → client on two connections: ask until it is there
    // (each ask is a round trip; bounded).
    let status = await c.status(job.handle);
    for (let i = 0; i < 100 && status.numerator !== 1; i++) status = await c.status(job.handle);
    expect(status).toEqual({ known: true, running: true, numerator: 1, denominator: 3 });
    const executed = firstValueFrom(w.events$.pipe(filter((e) => e.type === 'afterExecute')));
    finish.release();
    await executed; // the worker has sent WORK_COMPLETE
    for (let i = 0; i < 100 && status.known; i++) status = await c.status(job.handle);
    expect(status.known).toBe(false);
    await expect(job.result).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('coalesce the same unique id while queued: one job, one handle', async () => {
    const servers = [address(server())];
    const c = client(servers);
    const first = await c.submit('once', 'a', { unique: 'order-42', background: true });
    const second = await c.submit('once', 'b', { unique: 'order-42', background: true });
    expect(second.handle).toBe(first.handle);
    const byUnique = await c.statusByUnique('order-42');
    expect(byUnique).toMatchObject({ known: true, running: false, clientCount: 0 });
    // Two foreground submissions of one unique on one connection: each gets the result once.
    const ran: string[] = [];
    const accepted = latch(); // the job runs on until both submissions are accepted
    worker(servers).register('twice', async (job) => {
      ran.push(job.text());
      await accepted.promise;
      job.status(1, 1);
      return 'r';
    });
    const [x, y] = await Promise.all([
      c.submit('twice', 'p', { unique: 'u' }),
      c.submit('twice', 'q', { unique: 'u' }),
    ]);
    accepted.release();
    expect(y.handle).toBe(x.handle);
    const [ex, ey] = await Promise.all([
      lastValueFrom(x.events$.pipe(toArray())),
      lastValueFrom(y.events$.pipe(toArray())),
    ]);
    expect(ex.map((u) => u.type)).toEqual(['status', 'complete']);
    expect(ey.map((u) => u.type)).toEqual(['status', 'complete']);
    expect(ran).toEqual(['p']);
  });

  it('run a job submitted with runAt no earlier than its time (SUBMIT_JOB_EPOCH)', async () => {
    const servers = [address(server())];
    const c = client(servers);
    const runAt = Date.now() + 1500;
    const job = await c.submit('later', 'x', { runAt });
    expect(job.background).toBe(true);
    expect((await c.status(job.handle)).known).toBe(true);
    let ranAt = 0;
    // gearmand 1.1.20 wakes no sleeping worker when the time comes (reference §3.10), so
    // this worker polls: it starts after the due time and grabs.
    await new Promise((r) => setTimeout(r, Math.ceil(runAt / 1000) * 1000 + 100 - Date.now()));
    worker(servers).register('later', () => void (ranAt = Date.now()));
    await eventually(() => ranAt > 0);
    // Whole seconds on the wire, rounded up: never before the time asked.
    expect(ranAt).toBeGreaterThanOrEqual(runAt);
  });

  it('report failures: WorkFail, exceptions, and exceptions as failures when not wanted', async () => {
    const servers = [address(server())];
    worker(servers)
      .register('fails', () => {
        throw new WorkFail();
      })
      .register('throws', () => {
        throw new Error('bad input');
      });
    const c = client(servers);
    await expect(c.run('fails')).rejects.toBeInstanceOf(JobFailedError);
    const error = await c.run('throws').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobExceptionError);
    expect((error as JobExceptionError).data.toString()).toBe('bad input');
    const plain = client(servers, { exceptions: false });
    await expect(plain.run('throws')).rejects.toMatchObject({ reason: 'EXCEPTION' });
  });

  it('stop a job at its timeout through its AbortSignal', async () => {
    const servers = [address(server())];
    let aborted = false;
    worker(servers).register(
      'stuck',
      (job) =>
        new Promise((_, reject) =>
          job.signal.addEventListener('abort', () => {
            aborted = true;
            reject(job.signal.reason as Error);
          }),
        ),
      { timeout: 300 },
    );
    await expect(client(servers).run('stuck')).rejects.toBeInstanceOf(JobFailedError);
    expect(aborted).toBe(true);
  });

  it('run at most `concurrency` jobs of a function at once', async () => {
    const servers = [address(server())];
    let active = 0;
    let most = 0;
    worker(servers).register(
      'slow',
      async () => {
        most = Math.max(most, ++active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
      },
      { concurrency: 3 },
    );
    await client(servers).runAll(Array.from({ length: 12 }, () => ({ functionName: 'slow' })));
    expect(most).toBe(3);
  });

  it('keep a function usable when it is registered again while a job of it runs', async () => {
    const servers = [address(server())];
    const gate = latch();
    let running = 0;
    let most = 0;
    const handler = async () => {
      most = Math.max(most, ++running);
      await gate.promise;
      running--;
      return 'ok';
    };
    const w = worker(servers).register('reload', handler, { concurrency: 1 });
    const c = client(servers);
    const first = c.run('reload');
    await eventually(() => w.activeJobs === 1);
    w.register('reload', handler, { concurrency: 1 }); // a hot reload of the handler
    const second = c.run('reload');
    gate.release();
    expect((await Promise.all([first, second])).map(String)).toEqual(['ok', 'ok']);
    expect(most).toBe(1);
  });

  it('emit lifecycle events and stop after maxJobs', async () => {
    const servers = [address(server())];
    const w = worker(servers, { maxJobs: 2, clientId: 'w-1' });
    const events: WorkerEvent['type'][] = [];
    w.events$.subscribe((e) => events.push(e.type));
    w.register('e', () => 'ok');
    const c = client(servers);
    await c.runAll([{ functionName: 'e' }, { functionName: 'e' }]);
    await w.done;
    expect(events).toContain('connected');
    expect(events).toContain('afterRegister');
    expect(events.filter((e) => e === 'afterExecute')).toHaveLength(2);
    expect(events.at(-1)).toBe('afterRun');
    expect(w.completedJobs).toBe(2);
  });

  it('stop gracefully: running jobs finish, those past the deadline are aborted and requeued', async () => {
    const servers = [address(server())];
    const quick = latch();
    const first = worker(servers);
    let sawAbort = false;
    first
      .register('quick', async () => {
        await quick.promise;
        return 'finished';
      })
      .register(
        'endless',
        (job) =>
          new Promise((_, reject) =>
            job.signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(new Error('aborted'));
            }),
          ),
        { concurrency: 1 },
      );
    const c = client(servers);
    const quickJob = await c.submit('quick');
    const endless = await c.submit('endless', 'e');
    await eventually(() => first.activeJobs === 2);
    const stopped = first.stop({ timeout: 200 });
    quick.release();
    expect(await quickJob.text()).toBe('finished');
    await stopped;
    expect(sawAbort).toBe(true);
    // The aborted job went back to the server: another worker finishes it.
    worker(servers).register('endless', (job) => `again ${job.text()}`);
    expect(await endless.text()).toBe('again e');
  });
});

describeOnBothServers([], 'the TCP client and worker across a server restart', (server) => {
  it('reconnect, register again, and keep working; foreground jobs in flight fail with SERVER_LOST', async () => {
    const port = server().port;
    const servers = [`127.0.0.1:${port}`];
    const w = worker(servers, { clientId: 'restarts' });
    let connected = 0;
    w.events$.subscribe((e) => e.type === 'connected' && connected++);
    const hold = latch();
    w.register('echo', (job) => job.text()).register('hold', () => hold.promise);
    const c = client(servers, { reconnectDelay: 20, maxReconnectDelay: 200 });
    expect(await (await c.submit('echo', 'before')).text()).toBe('before');
    const inFlight = await c.submit('hold');
    const lost = inFlight.result.catch((e: unknown) => e);
    await eventually(() => w.activeJobs === 1);

    await server().crash();
    const error = await lost;
    expect(error).toBeInstanceOf(ServerLostError);
    expect((error as ServerLostError).server).toBe(servers[0]);
    hold.release();

    const restarted = await startServer(server().name, port);
    try {
      await eventually(() => connected >= 2, 10_000);
      const jobs = await c.submitAll(
        Array.from({ length: 20 }, (_, i) => ({
          functionName: 'echo',
          payload: `bg${i}`,
          background: true,
        })),
      );
      expect(jobs).toHaveLength(20);
      expect(await c.run('echo', 'after')).toEqual(Buffer.from('after'));
      await eventually(() => w.completedJobs >= 23, 10_000);
    } finally {
      await restarted.stop();
    }
  });
});

for (const kind of ['geartrain', 'gearmand'] as const) {
  describeWithTools(['gearmand'], `a three-server cluster of ${kind}`, () => {
    let cluster: TestServer[] = [];
    afterEach(async () => {
      await Promise.all(cluster.map((s) => s.stop()));
      cluster = [];
    });

    it('coalesce by unique id across the cluster, and lose no background job when one server stops', async () => {
      cluster = await Promise.all([startServer(kind), startServer(kind), startServer(kind)]);
      const servers = cluster.map(address);
      // Two clients listing the servers in different orders agree on where a unique id goes.
      const a = client(servers);
      const b = client([...servers].reverse());
      await Promise.all([
        a.echo('x', servers[0]),
        a.echo('x', servers[1]),
        a.echo('x', servers[2]),
      ]);
      await Promise.all([
        b.echo('x', servers[0]),
        b.echo('x', servers[1]),
        b.echo('x', servers[2]),
      ]);
      for (let i = 0; i < 20; i++) {
        const one = await a.submit('coalesce', 'p', { unique: `u${i}`, background: true });
        const two = await b.submit('coalesce', 'q', { unique: `u${i}`, background: true });
        expect(two.handle).toBe(one.handle);
      }
      // Background jobs spread over the three; then one server goes away with its queue.
      const jobs = await a.submitAll(
        Array.from({ length: 60 }, (_, i) => ({
          functionName: 'bg',
          payload: String(i),
          background: true,
        })),
      );
      expect(jobs).toHaveLength(60);
      const stopped = cluster[0]!;
      await stopped.stop();
      cluster = cluster.slice(1);
      const done = new Set<string>();
      worker(servers).register('bg', (job) => void done.add(job.text()));
      // Round robin gave each server 20: the 40 held by the two running servers are done.
      await eventually(() => done.size === 40, 10_000);
      // And new work goes to the servers that are up.
      const more = await a.submitAll(
        Array.from({ length: 10 }, (_, i) => ({
          functionName: 'bg',
          payload: `m${i}`,
          background: true,
        })),
      );
      expect(more).toHaveLength(10);
      await eventually(() => done.size === 50, 10_000);
    });
  });
}

describe('the TCP client without a usable server', () => {
  it('fails with NO_SERVER when nothing listens, within the connect timeout', async () => {
    const port = await freePort();
    const c = client([`127.0.0.1:${port}`], { connectTimeout: 300, reconnectDelay: 50 });
    await expect(c.run('x')).rejects.toBeInstanceOf(NoServerError);
  });

  it('drops a server that does not answer within the request timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const c = client([`127.0.0.1:${port}`], { requestTimeout: 200 });
      const error = await c.run('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerLostError);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('maps a full queue to QueueFullError', async () => {
    const s = await startServer('geartrain');
    try {
      await s.jobServer!.createFunction('limited');
      await s.jobServer!.setMaxQueue('limited', 1);
      const c = client([address(s)]);
      await c.submit('limited', '', { background: true });
      await expect(c.submit('limited', '', { background: true })).rejects.toBeInstanceOf(
        QueueFullError,
      );
    } finally {
      await s.stop();
    }
  });
});
