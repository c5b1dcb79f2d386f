// npm run bench -- cluster
// The shared queue on PostgreSQL (issue 31, item 8), everything in one run on one throwaway
// PostgreSQL (fsync and synchronous_commit on), each geartrain node a child process
// (bench/cluster-node.mjs):
//
// 1. Bulk enqueue: 50,000 background jobs through one node's backend, 2,000 a statement.
// 2. Drain: those 50,000 pre-queued jobs drained by 1 node, then 50,000 more by 3 nodes.
// 3. Steady state: submit and work at the same time, for 5 s: in process (one node submits,
//    in batches of 500, and works), and over TCP with the libgearman load generator
//    (20,000 background jobs submitted to one node while 4 libgearman workers on another
//    work them). In process, the submitter keeps at most 2,000 jobs added and not done (a
//    state that is steady: the queue does not grow), then floods (batches as fast as they
//    are taken, the queue growing) for 5 s more.
// 4. Peers, beside it, on the same PostgreSQL: graphile-worker 0.18 batched (localQueue.size
//    500, completeJobBatchDelay and failJobBatchDelay 0, 64 concurrent jobs) and with its
//    defaults, pg-boss 12 (batches of 500), BullMQ on redis-server (appendonly, everysec;
//    64 concurrent jobs). Each: addJobs/insert/addBulk of 50,000, the drain of them (a
//    minute at most: the rate until then), and the steady state and flood of 5 s each, as
//    geartrain's: jobs done a second while batches of 500 are added.
// 5. Latency, submit to start, on an idle cluster: 200 jobs one at a time, submitted on one
//    node, run on another; p50 and p99.
// 5b. Foreground round trips (issue 32): `client.run()` on node A, 400 one after the other,
//    of a function whose worker is on A itself, then of one whose only worker is on node B,
//    alternating in blocks of 20; p50 of each, and the median of the blocks' ratios (the
//    cross-node path adds the result's write and read through the updates table, and a
//    NOTIFY each way).
// 5c. A held snapshot (issue 32): a steady 1,000 jobs a second through one node for 20 s, then
//    a transaction of another client holds a snapshot open for 60 s (REPEATABLE READ, one
//    read: no row of the queue can be vacuumed meanwhile), then 60 s more: jobs done a second
//    before, during and after; the worst 5 s during against the 20 s before, and how long
//    after the commit the rate is back (a 5 s window at 95% of it).
// 6. Recovery after a kill -9 of the node holding a job (5 runs), and after a SIGSTOP of it
//    (3 runs; its lease is 10 s): until a worker of another node has it.
// 7. Database traffic per node: statements and NOTIFY a second, idle (a worker sleeping,
//    10 s) and under the steady load.
//
// Needs PostgreSQL (scripts/install-test-deps.sh), and redis-server for BullMQ
// (scripts/install-bench-deps.sh; skipped without it). graphile-worker 0.18 and pg-boss 12
// ask for Node 22 in their engines; they run on Node 20 as well.
import { fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresQueue } from '@geartrain/postgres';
import { median, report } from './lib.mjs';
import { startPostgres } from './postgres.mjs';
import { buildLoadgen, freePort, load, startWorkers, waitForPort } from './servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const JOBS = 50_000;
const STEADY_SECONDS = 5;
/** The steady state's backlog: jobs added and not done, at most (the submitter waits). */
const STEADY_BACKLOG = 2000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let schemas = 0;

/**
 * Every measured window starts from the same state of the database, whoever is measured: the
 * tables of earlier parts vacuumed (their autovacuum would otherwise run in the window) and
 * a checkpoint made. Set by `run`.
 */
let settle = async () => undefined;
/** CPU seconds of the bench's PostgreSQL so far. Set by `run`. */
let databaseCpu = () => 0;

// ---------------------------------------------------------------------------------------
// Nodes

/** A node as a child process; resolves once its job server is open. */
async function startNode(url, schema, env = {}) {
  const child = fork(join(here, 'cluster-node.mjs'), [], {
    env: { ...process.env, URL: url, SCHEMA: schema, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners = new Set();
  child.on('message', (message) => {
    for (const listener of [...listeners]) listener(message);
  });
  const next = (key, timeout = 120_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${key} from a node`)), timeout);
      const listener = (message) => {
        if (!(key in message)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(message);
      };
      listeners.add(listener);
    });
  const exited = once(child, 'exit');
  const ready = await next('ready', 30_000);
  return {
    child,
    port: ready.port,
    next,
    on: (listener) => listeners.add(listener),
    send: (message) => child.send(message),
    async figures() {
      child.send({ type: 'figures' });
      return (await next('figures')).figures;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async close() {
      if (child.exitCode !== null) return;
      child.send({ type: 'close' });
      await exited;
    },
  };
}

/** A backend opened in this process, as a node opens it (for bulk submissions). */
async function openBackend(url, schema) {
  const queue = postgresQueue({ connectionString: url, schema });
  await queue.open(
    { id: crypto.randomUUID(), name: 'bench-loader' },
    {
      waiting: () => undefined,
      revoked: () => undefined,
      event: () => undefined,
      settings: () => undefined,
      updates: () => undefined,
      relay: () => undefined,
      abilities: () => [],
    },
  );
  return queue;
}

async function countJobs(db, schema) {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${schema}.jobs`);
  return rows[0].n;
}

/** Polls until the hot table of `schema` is empty; resolves with the time it happened. */
async function drained(db, schema, timeout = 600_000) {
  const deadline = Date.now() + timeout;
  while ((await countJobs(db, schema)) > 0) {
    if (Date.now() > deadline) throw new Error(`${schema} did not drain`);
    await pause(20);
  }
  return performance.now();
}

const payload = () => Buffer.alloc(16, 0x61);

async function enqueue(url, schema, jobs) {
  const queue = await openBackend(url, schema);
  const batch = Array.from({ length: 2000 }, () => ({
    functionName: 'bench',
    payload: payload(),
    unique: '',
    priority: 'normal',
    delay: 0,
    reducer: '',
    retry: null,
    foreground: false,
  }));
  const start = performance.now();
  for (let i = 0; i < jobs; i += batch.length) await queue.submit(batch);
  const seconds = (performance.now() - start) / 1000;
  await queue.close();
  return jobs / seconds;
}

// ---------------------------------------------------------------------------------------
// geartrain

async function geartrainDrain(url, db, nodes) {
  const schema = `drain_${nodes}_${++schemas}`;
  const enqueued = await enqueue(url, schema, JOBS);
  const started = await Promise.all(Array.from({ length: nodes }, () => startNode(url, schema)));
  await settle();
  const start = performance.now();
  for (const node of started) node.send({ type: 'work', mode: 'work' });
  const end = await drained(db, schema);
  for (const node of started) await node.close();
  return { enqueued, drain: JOBS / ((end - start) / 1000) };
}

/**
 * One node submits (batches of 500) and works for 5 s, with its backlog bounded, then
 * flooded: jobs done a second, and the node's statements and NOTIFY a second.
 */
async function geartrainSteady(url) {
  const schema = `steady_${++schemas}`;
  const node = await startNode(url, schema);
  node.send({ type: 'work', mode: 'work' });
  await pause(300);
  const window = async (backlog) => {
    await settle();
    const before = await node.figures();
    const database = databaseCpu();
    const start = performance.now();
    node.send({ type: 'steady', seconds: STEADY_SECONDS, batch: 500, backlog });
    const { steady } = await node.next('steady');
    const seconds = (performance.now() - start) / 1000;
    const jobs = steady.done - before.done;
    return {
      jobsPerS: jobs / seconds,
      nodeCpuPerJob: ((steady.cpu - before.cpu) / jobs) * 1e6,
      databaseCpuPerJob: ((databaseCpu() - database) / jobs) * 1e6,
      statementsPerS: (steady.statements - before.statements) / seconds,
      notifyPerS: (steady.notifications - before.notifications) / seconds,
    };
  };
  const steady = await window(STEADY_BACKLOG);
  const flood = await window(undefined);
  await node.close();
  return { steady, flood };
}

async function geartrainTcp(url, db, loadgen) {
  const schema = `tcp_${++schemas}`;
  const submitter = await startNode(url, schema, { PORT: '0' });
  const worker = await startNode(url, schema, { PORT: '0' });
  const stopWorkers = await startWorkers(loadgen, worker.port, 4);
  const jobs = 20_000;
  await settle();
  const start = performance.now();
  load(loadgen, submitter.port, 'queue', jobs);
  const end = await drained(db, schema);
  await stopWorkers();
  await submitter.close();
  await worker.close();
  return jobs / ((end - start) / 1000);
}

async function latency(url) {
  const schema = `latency_${++schemas}`;
  const a = await startNode(url, schema);
  const b = await startNode(url, schema);
  b.send({ type: 'work', mode: 'starts', workers: 1, concurrency: 1 });
  await pause(1500); // idle: B's first claim came short, its heartbeat went by
  const waits = [];
  for (let i = 0; i < 200; i++) {
    const started = b.next('started');
    a.send({ type: 'submit' });
    const { started: at, payload: sent } = await started;
    waits.push(at - Number(sent));
    await pause(20);
  }
  await a.close();
  await b.close();
  waits.sort((x, y) => x - y);
  return { p50: waits[100], p99: waits[198] };
}

/** Foreground round trips within node A and from A to B's worker (p50 of each, ms). */
async function roundTrips(url) {
  const schema = `roundtrip_${++schemas}`;
  const a = await startNode(url, schema);
  const b = await startNode(url, schema);
  a.send({ type: 'echo', function: 'echo-here' });
  await a.next('echoing');
  b.send({ type: 'echo', function: 'echo-there' });
  await b.next('echoing');
  const within = [];
  const across = [];
  const ratios = [];
  for (let block = 0; block < 20; block++) {
    const pair = [];
    for (const [fn, times] of [
      ['echo-here', within],
      ['echo-there', across],
    ]) {
      const answer = a.next('roundTrips');
      a.send({ type: 'round-trips', function: fn, count: 20 });
      const block = (await answer).roundTrips;
      times.push(...block);
      pair.push(median(block));
    }
    // The first block of each warms the statements and the connections.
    if (block > 0) ratios.push(pair[1] / pair[0]);
  }
  await a.close();
  await b.close();
  const p50 = (times) => median(times.slice(20));
  return { within: p50(within), across: p50(across), ratio: median(ratios) };
}

/** Jobs a second through a node while another client holds a snapshot for `held` s. */
async function heldSnapshot(url, before = 20, held = 60, after = 60, rate = 1000) {
  const schema = `snapshot_${++schemas}`;
  const node = await startNode(url, schema);
  node.send({ type: 'work', mode: 'work' });
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  const answer = node.next('paced', (before + held + after + 60) * 1000);
  node.send({ type: 'paced', rate, seconds: before + held + after });
  await pause(before * 1000);
  await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await holder.query('SELECT count(*) FROM pg_class');
  await pause(held * 1000);
  await holder.query('COMMIT');
  const { samples, late } = (await answer).paced;
  await holder.end();
  await node.close();
  const perSecond = samples.map((n, i) => n - (i === 0 ? 0 : samples[i - 1]));
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const baseline = mean(perSecond.slice(5, before));
  const windows = (from, to) => {
    const out = [];
    for (let i = from; i + 5 <= to; i++) out.push(mean(perSecond.slice(i, i + 5)));
    return out;
  };
  const during = Math.min(...windows(before, before + held));
  const afterStart = before + held;
  const recovered = windows(afterStart, perSecond.length).findIndex((w) => w >= 0.95 * baseline);
  return {
    baseline,
    worstDuring: during,
    ratio: during / baseline,
    recoverySeconds: recovered < 0 ? Infinity : recovered + 5,
    late,
    perSecond,
  };
}

/**
 * Until a worker of another node has the job of a node that is killed (`SIGKILL`, 5 runs)
 * or hung (`SIGSTOP`, 3 runs: its lease, 10 s, runs out; then it is killed).
 */
async function recovery(url, signal = 'SIGKILL', runs = 5) {
  const schema = `recovery_${++schemas}`;
  const times = [];
  for (let run = 0; run < runs; run++) {
    const a = await startNode(url, schema);
    const b = await startNode(url, schema);
    a.send({ type: 'work', mode: 'hold', workers: 1, concurrency: 1 });
    const held = a.next('held');
    a.send({ type: 'submit' });
    const { held: handle } = await held;
    b.send({ type: 'work', mode: 'starts', workers: 1, concurrency: 1 });
    const started = b.next('started', 30_000);
    const killed = Date.now();
    if (signal === 'SIGKILL') await a.kill();
    else a.child.kill(signal);
    const got = await started;
    await a.kill();
    if (got.handle !== handle) throw new Error('another job started');
    times.push(got.started - killed);
    await b.close();
  }
  return times;
}

/**
 * An idle node's statements and NOTIFY a second: the slope of its counts, read every half
 * second for 15 s (a count over one window would catch a heartbeat more or less at its ends).
 */
async function idleTraffic(url) {
  const schema = `idle_${++schemas}`;
  const node = await startNode(url, schema);
  node.send({ type: 'work', mode: 'work', workers: 1, concurrency: 1 });
  await pause(1500);
  const samples = [];
  const start = performance.now();
  while (performance.now() - start < 15_000) {
    const figures = await node.figures();
    samples.push({ t: (performance.now() - start) / 1000, ...figures });
    await pause(500);
  }
  await node.close();
  const slope = (key) => {
    const n = samples.length;
    const mt = samples.reduce((a, x) => a + x.t, 0) / n;
    const mv = samples.reduce((a, x) => a + x[key], 0) / n;
    const cov = samples.reduce((a, x) => a + (x.t - mt) * (x[key] - mv), 0);
    const vt = samples.reduce((a, x) => a + (x.t - mt) ** 2, 0);
    return cov / vt;
  };
  return { statementsPerS: slope('statements'), notifyPerS: slope('notifications') };
}

// ---------------------------------------------------------------------------------------
// Peers

/** Jobs done, counted by a peer's handler; a submitter may wait for the count to reach a mark. */
class Done {
  n = 0;
  #mark = Infinity;
  #reached = () => undefined;
  add(k = 1) {
    this.n += k;
    if (this.n >= this.#mark) this.#reached();
  }
  /** Resolves once `n` reaches `mark`. */
  reach(mark) {
    if (this.n >= mark) return Promise.resolve();
    this.#mark = mark;
    return new Promise((resolve) => {
      this.#reached = () => {
        this.#mark = Infinity;
        resolve();
      };
    });
  }
}

/** Resolves when `done` reaches `target`, or after `capMs`: the jobs a second until then. */
async function rateUntil(done, target, start, capMs = 60_000) {
  while (done.n < target && performance.now() - start < capMs) await pause(5);
  return done.n / ((performance.now() - start) / 1000);
}

/**
 * Adds batches of 500 with `add` for 5 s while the peer works: the jobs it did a second.
 * With a `backlog`, a batch waits while that many jobs are added and not done (the steady
 * state); without, batches go as fast as `add` returns (the flood). What the drain left
 * is done first.
 */
async function steadyWindow(add, done, backlog = Infinity, left = 0) {
  await done.reach(left);
  await settle();
  const before = done.n;
  let added = 0;
  const cpu = process.cpuUsage();
  const database = databaseCpu();
  const start = performance.now();
  while (performance.now() - start < STEADY_SECONDS * 1000) {
    if (added - (done.n - before) > backlog) {
      await done.reach(before + added - backlog);
      continue;
    }
    await add(500);
    added += 500;
  }
  const jobs = done.n - before;
  const rate = jobs / ((performance.now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  const figures = {
    rate,
    clientCpuPerJob: (used.user + used.system) / jobs,
    databaseCpuPerJob: ((databaseCpu() - database) / jobs) * 1e6,
  };
  // The bounded window's leftovers are done before the next window starts.
  if (backlog !== Infinity) await done.reach(before + added);
  return figures;
}

/** A peer's two steady states: with the backlog bounded, and flooded. */
async function steadyStates(add, done) {
  const steady = await steadyWindow(add, done, STEADY_BACKLOG, JOBS);
  const flood = await steadyWindow(add, done, Infinity, done.n);
  return { steady: steady.rate, flood: flood.rate, cpu: steady };
}

async function graphile(url, batched) {
  const { run, makeWorkerUtils, Logger } = await import('graphile-worker');
  const schema = `gw_${++schemas}`;
  const utils = await makeWorkerUtils({ connectionString: url, schema });
  await utils.migrate();
  const add = async (n) => {
    for (let i = 0; i < n; i += 1000) {
      await utils.addJobs(
        Array.from({ length: Math.min(1000, n - i) }, () => ({ identifier: 'bench', payload: {} })),
      );
    }
  };
  const addStart = performance.now();
  await add(JOBS);
  const enqueued = JOBS / ((performance.now() - addStart) / 1000);
  await settle();
  const done = new Done();
  const start = performance.now();
  const runner = await run({
    connectionString: url,
    schema,
    noHandleSignals: true,
    logger: new Logger(() => () => undefined),
    taskList: {
      bench: async () => {
        done.add();
      },
    },
    ...(batched
      ? {
          concurrency: 64,
          preset: {
            worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
          },
        }
      : {}),
  });
  const drain = await rateUntil(done, JOBS, start);
  const states = await steadyStates(add, done);
  await runner.stop();
  await utils.release();
  return { enqueued, drain, ...states };
}

async function pgBoss(url) {
  const { PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: url, schema: `boss_${++schemas}` });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('bench');
  const add = async (n) => {
    for (let i = 0; i < n; i += 1000) {
      await boss.insert(
        'bench',
        Array.from({ length: Math.min(1000, n - i) }, () => ({ data: {} })),
      );
    }
  };
  const addStart = performance.now();
  await add(JOBS);
  const enqueued = JOBS / ((performance.now() - addStart) / 1000);
  await settle();
  const done = new Done();
  const start = performance.now();
  await boss.work('bench', { batchSize: 500, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    done.add(jobs.length);
  });
  const drain = await rateUntil(done, JOBS, start);
  const states = await steadyStates(add, done);
  await boss.stop({ graceful: false, wait: true });
  return { enqueued, drain, ...states };
}

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'].concat([
      '--appendfsync',
      'everysec',
      '--save',
      '',
    ]),
    { stdio: 'ignore' },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

async function bullmq(redisPort) {
  const { Queue, Worker } = await import('bullmq');
  const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
  const name = `bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const add = async (n) => {
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, () => ({
          name: 'bench',
          data: {},
          opts: { removeOnComplete: true },
        })),
      );
    }
  };
  const addStart = performance.now();
  await add(JOBS);
  const enqueued = JOBS / ((performance.now() - addStart) / 1000);
  await settle();
  const done = new Done();
  const start = performance.now();
  const worker = new Worker(
    name,
    async () => {
      done.add();
    },
    { connection, concurrency: 64 },
  );
  const drain = await rateUntil(done, JOBS, start);
  const states = await steadyStates(add, done);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { enqueued, drain, ...states };
}

// ---------------------------------------------------------------------------------------

/**
 * CLUSTER_PARTS, a comma list (drain, steady, tcp, idle, latency, roundtrip, snapshot, recovery; peers, or one of
 * graphile-worker-batched, graphile-worker-defaults, pg-boss, bullmq), runs only those parts;
 * all of them by default.
 */
const parts = process.env.CLUSTER_PARTS?.split(',');
const wanted = (part) => parts === undefined || parts.includes(part);

export async function run() {
  // Stopped by a signal: the exit hooks stop PostgreSQL and redis-server.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
  const postgres = await startPostgres();
  const url = postgres.connectionString;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  databaseCpu = postgres.cpu;
  settle = async () => {
    await db.query('VACUUM');
    await db.query('CHECKPOINT');
  };
  const loadgen = buildLoadgen();
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-bench-cluster-'));
  try {
    if (wanted('drain')) {
      const one = await geartrainDrain(url, db, 1);
      report('cluster-enqueue', 'jobs_per_s', one.enqueued, 'jobs/s');
      report('cluster-drain-1-node', 'jobs_per_s', one.drain, 'jobs/s');
      const three = await geartrainDrain(url, db, 3);
      report('cluster-drain-3-nodes', 'jobs_per_s', three.drain, 'jobs/s');
    }
    if (wanted('steady')) {
      const { steady, flood } = await geartrainSteady(url);
      report('cluster-steady-in-process', 'jobs_per_s', steady.jobsPerS, 'jobs/s');
      report('cluster-steady-in-process', 'node_cpu_per_job', steady.nodeCpuPerJob, 'us');
      report('cluster-steady-in-process', 'database_cpu_per_job', steady.databaseCpuPerJob, 'us');
      report('cluster-flood-in-process', 'jobs_per_s', flood.jobsPerS, 'jobs/s');
      report('cluster-traffic-loaded', 'statements_per_s_per_node', steady.statementsPerS, '1/s');
      report('cluster-traffic-loaded', 'notify_per_s_per_node', steady.notifyPerS, '1/s');
    }
    if (wanted('tcp')) {
      report('cluster-steady-tcp', 'jobs_per_s', await geartrainTcp(url, db, loadgen), 'jobs/s');
    }
    if (wanted('idle')) {
      const idle = await idleTraffic(url);
      report('cluster-traffic-idle', 'statements_per_s_per_node', idle.statementsPerS, '1/s');
      report('cluster-traffic-idle', 'notify_per_s_per_node', idle.notifyPerS, '1/s');
    }
    if (wanted('latency')) {
      const waits = await latency(url);
      report('cluster-latency', 'submit_to_start_p50', waits.p50, 'ms');
      report('cluster-latency', 'submit_to_start_p99', waits.p99, 'ms');
    }
    if (wanted('roundtrip')) {
      const { within, across, ratio } = await roundTrips(url);
      report('cluster-foreground-round-trip', 'within_node_p50', within, 'ms');
      report('cluster-foreground-round-trip', 'across_nodes_p50', across, 'ms');
      // The median of the blocks' ratios (each block's p50 across over within).
      report('cluster-foreground-round-trip', 'across_over_within', ratio, 'x');
    }
    if (wanted('snapshot')) {
      const held = await heldSnapshot(
        url,
        Number(process.env.SNAPSHOT_BEFORE ?? 20),
        Number(process.env.SNAPSHOT_HELD ?? 60),
        Number(process.env.SNAPSHOT_AFTER ?? 60),
      );
      process.stderr.write(`held snapshot, jobs a second: ${held.perSecond.join(' ')}\n`);
      report('cluster-held-snapshot', 'jobs_per_s_before', held.baseline, 'jobs/s');
      report('cluster-held-snapshot', 'worst_5s_during_over_before', held.ratio, 'x');
      report('cluster-held-snapshot', 'recovered_within', held.recoverySeconds, 's');
    }
    if (wanted('recovery')) {
      const times = await recovery(url);
      report('cluster-recovery-kill-9', 'median', median(times), 'ms');
      report('cluster-recovery-kill-9', 'max_of_5', Math.max(...times), 'ms');
      const stopped = await recovery(url, 'SIGSTOP', 3);
      report('cluster-recovery-sigstop', 'median', median(stopped), 'ms');
      report('cluster-recovery-sigstop', 'max_of_3', Math.max(...stopped), 'ms');
    }

    for (const [peer, measure] of [
      ['graphile-worker-batched', () => graphile(url, true)],
      ['graphile-worker-defaults', () => graphile(url, false)],
      ['pg-boss', () => pgBoss(url)],
    ]) {
      if (!wanted(peer) && !wanted('peers')) continue;
      const figures = await measure();
      report('cluster-enqueue', 'jobs_per_s', figures.enqueued, 'jobs/s', peer);
      report('cluster-drain-1-node', 'jobs_per_s', figures.drain, 'jobs/s', peer);
      report('cluster-steady-in-process', 'jobs_per_s', figures.steady, 'jobs/s', peer);
      const { clientCpuPerJob, databaseCpuPerJob } = figures.cpu;
      report('cluster-steady-in-process', 'node_cpu_per_job', clientCpuPerJob, 'us', peer);
      report('cluster-steady-in-process', 'database_cpu_per_job', databaseCpuPerJob, 'us', peer);
      report('cluster-flood-in-process', 'jobs_per_s', figures.flood, 'jobs/s', peer);
    }
    if (!wanted('bullmq') && !wanted('peers')) return;
    if (spawnSync('sh', ['-c', 'command -v redis-server']).status === 0) {
      const redis = await startRedis(dir);
      try {
        const figures = await bullmq(redis.port);
        report('cluster-enqueue', 'jobs_per_s', figures.enqueued, 'jobs/s', 'bullmq');
        report('cluster-drain-1-node', 'jobs_per_s', figures.drain, 'jobs/s', 'bullmq');
        report('cluster-steady-in-process', 'jobs_per_s', figures.steady, 'jobs/s', 'bullmq');
        report('cluster-flood-in-process', 'jobs_per_s', figures.flood, 'jobs/s', 'bullmq');
      } finally {
        await redis.stop();
      }
    } else {
      process.stderr.write(
        'cluster bench: no redis-server (scripts/install-bench-deps.sh); BullMQ skipped\n',
      );
    }
  } finally {
    await db.end();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
