// One node of the cluster bench (bench/cluster.mjs), a child process driven over IPC:
// a job server on the shared queue in PostgreSQL, with in-process workers of `bench` when
// told, and figures sent back. Env: URL, SCHEMA, PORT (0: no TCP port).
import { createJobServer } from '@geartrain/core';
import { postgresQueue } from '@geartrain/postgres';
import { GearmanServer } from '@geartrain/tcp';

const queue = postgresQueue({ connectionString: process.env.URL, schema: process.env.SCHEMA });
const server = createJobServer({ queue, releaseMemory: false });
await server.ready;
let port = 0;
if (process.env.PORT !== undefined) {
  const tcp = new GearmanServer(server);
  await tcp.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
  port = tcp.address.port;
}

let done = 0;
/** Resolved when `done` reaches `doneTarget` (a backlog-bound submitter waits on it). */
let doneTarget = Infinity;
let reached = () => undefined;
const send = (message) => process.send?.(message);
const figures = () => {
  const cpu = process.cpuUsage();
  return {
    done,
    statements: queue.statements,
    notifications: queue.notifications,
    cpu: (cpu.user + cpu.system) / 1e6,
  };
};

/**
 * Workers for `bench`: `mode` work (no-op), starts (each start reported with the payload's
 * time), hold (never ends: a job held until the process is killed). The job server claims
 * at most 32 jobs a registration: 16 workers of 32 let a claim ask for 512.
 */
function work(mode, workers = 16, concurrency = 32) {
  for (let i = 0; i < workers; i++) {
    server.worker().register(
      'bench',
      (job) => {
        if (mode === 'hold') {
          send({ held: job.handle });
          return new Promise(() => undefined);
        }
        if (mode === 'starts')
          send({ started: Date.now(), payload: job.text(), handle: job.handle });
        if (++done >= doneTarget) reached();
        return undefined;
      },
      { concurrency },
    );
  }
}

/**
 * Submits in batches of `batch` for `seconds`, as fast as the queue takes them; with a
 * `backlog`, a batch waits while that many jobs are submitted and not yet done.
 */
async function submitFor(seconds, batch, backlog = Infinity) {
  const client = server.client();
  const payload = Buffer.alloc(16, 0x61);
  const end = Date.now() + seconds * 1000;
  let submitted = 0;
  const start = done;
  while (Date.now() < end) {
    if (submitted - (done - start) > backlog) {
      doneTarget = start + submitted - backlog;
      await new Promise((resolve) => (reached = resolve));
      doneTarget = Infinity;
      continue;
    }
    const jobs = new Array(batch);
    for (let i = 0; i < batch; i++) jobs[i] = client.submit('bench', payload, { background: true });
    await Promise.all(jobs);
    submitted += batch;
  }
  return submitted;
}

process.on('message', async (message) => {
  switch (message.type) {
    case 'work':
      work(message.mode, message.workers, message.concurrency);
      break;
    case 'figures':
      send({ figures: figures() });
      break;
    case 'submit': {
      const job = await server.client().submit('bench', String(Date.now()), { background: true });
      send({ submitted: job.handle });
      break;
    }
    case 'echo':
      // A worker of `function` that answers with the payload (foreground round trips).
      server.worker().register(message.function, (job) => job.payload);
      send({ echoing: message.function });
      break;
    case 'round-trips': {
      // `count` foreground jobs of `function` one after the other: ms each, submit to result.
      const client = server.client();
      const times = [];
      for (let i = 0; i < message.count; i++) {
        const start = process.hrtime.bigint();
        await client.run(message.function, 'ping');
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      send({ roundTrips: times });
      break;
    }
    case 'paced': {
      // `rate` jobs a second for `seconds`, in tenths; the jobs done each second after.
      const client = server.client();
      const payload = Buffer.alloc(16, 0x61);
      const perTick = Math.max(1, Math.round(message.rate / 10));
      const start = Date.now();
      const done0 = done;
      const samples = [];
      let next = start;
      let nextSample = start + 1000;
      let late = 0;
      while (Date.now() - start < message.seconds * 1000) {
        const jobs = new Array(perTick);
        for (let i = 0; i < perTick; i++) {
          jobs[i] = client.submit('bench', payload, { background: true });
        }
        await Promise.all(jobs);
        next += 100;
        const now = Date.now();
        while (now >= nextSample) {
          samples.push(done - done0);
          nextSample += 1000;
        }
        if (next > now) await new Promise((resolve) => setTimeout(resolve, next - now));
        else late++;
      }
      send({ paced: { samples, late } });
      break;
    }
    case 'steady': {
      const submitted = await submitFor(message.seconds, message.batch, message.backlog);
      send({ steady: { submitted, ...figures() } });
      break;
    }
    case 'close':
      await server.close({ timeout: 0 });
      process.exit(0);
  }
});
// The bench went away: so does the node.
process.on('disconnect', () => process.exit(0));
send({ ready: true, port });
