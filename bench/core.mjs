// npm run bench -- core
// 1. Foreground submit → result with a trivial handler, beside fastq's promise API doing
//    the same work in the same run (same concurrency, same number of jobs in flight): one
//    promise per job (client.run) and one per batch of 10,000 (client.runAll, a task set).
// 2. Background jobs submitted, then drained by workers, beside fastq (push, then drained()):
//    one submit() per job, and submitAll() per batch.
// 3. Heap and RSS per queued background job with 1,000,000 queued 16-byte jobs (in a child
//    process started with --expose-gc, so the figures are after full collections).
// 4. Kept outcomes: background throughput with retention on (successes kept for the last
//    10,000) beside off, alternated, what that adds to each job in ns, and the heap per
//    kept outcome with a 16-byte result (outcomes-memory.mjs). CORE_BENCH=outcomes runs
//    only these.
// 5. The dashboard's metrics (issue 16): background throughput with @geartrain/dashboard's
//    metrics registered (default options: process metrics, and wait/run timings the server
//    measures) beside without, alternated, and what that adds to each job in ns.
//    CORE_BENCH=dashboard runs only this.
// 6. The dashboard watched (issue 16): steady background load (submitting and draining at
//    once, 2 s rounds) on a server whose page is open in another process (following
//    /api/events) and whose /metrics that process scrapes every second, beside a server
//    without the dashboard, alternated; the median of the pair-by-pair ratios.
//    CORE_BENCH=dashboard runs 5, 6 and 7.
// 7. The page's snapshot (issue 16) with 1,000 functions, 10,000 running jobs and 100,000
//    dead letters: its JSON
//    size and the median time to build and serialize it. CORE_BENCH=snapshot runs only this.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createJobServer } from '@geartrain/core';
import { createMetrics, serveDashboard, takeSnapshot } from '@geartrain/dashboard';
import fastq from 'fastq';
import { median, report } from './lib.mjs';

const JOBS = 100_000;
const BATCH = 10_000;
const CONCURRENCY = 16;
const PAYLOAD = Buffer.from('0123456789abcdef');
const ROUNDS = 7;

/**
 * Runs the contenders in alternation, ROUNDS times after a warm-up, and returns each one's
 * best rate in jobs/s. Alternating keeps drift on a shared machine from favouring either.
 */
async function contest(contenders) {
  for (const run of Object.values(contenders)) await run(); // warm-up
  const best = Object.fromEntries(Object.keys(contenders).map((name) => [name, Infinity]));
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, run] of Object.entries(contenders))
      best[name] = Math.min(best[name], await run());
  }
  return Object.fromEntries(Object.entries(best).map(([name, ms]) => [name, (JOBS * 1000) / ms]));
}

async function timed(body) {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

async function foregroundGeartrain(handler) {
  const server = createJobServer({ store: null });
  server.worker().register('echo', handler, { concurrency: CONCURRENCY });
  const client = server.client();
  const ms = await timed(async () => {
    for (let done = 0; done < JOBS; done += BATCH) {
      const batch = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) batch[i] = client.run('echo', PAYLOAD);
      await Promise.all(batch);
    }
  });
  await server.close();
  return ms;
}

/** The same workload through a task set: one promise per batch (`runAll`). */
async function foregroundTaskSet(handler) {
  const server = createJobServer();
  server.worker().register('echo', handler, { concurrency: CONCURRENCY });
  const client = server.client();
  const tasks = Array.from({ length: BATCH }, () => ({ functionName: 'echo', payload: PAYLOAD }));
  const ms = await timed(async () => {
    for (let done = 0; done < JOBS; done += BATCH) await client.runAll(tasks);
  });
  await server.close();
  return ms;
}

async function foregroundFastq() {
  const queue = fastq.promise(async (payload) => payload, CONCURRENCY);
  return timed(async () => {
    for (let done = 0; done < JOBS; done += BATCH) {
      const batch = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) batch[i] = queue.push(PAYLOAD);
      await Promise.all(batch);
    }
  });
}

async function backgroundGeartrain(handler, taskSet = false, serverOptions = {}, attach) {
  const server = createJobServer(serverOptions);
  const detach = attach?.(server);
  const tasks = Array.from({ length: BATCH }, () => ({
    functionName: 'work',
    payload: PAYLOAD,
    background: true,
  }));
  let processed = 0;
  let drained;
  const done = new Promise((resolve) => (drained = resolve));
  const ms = await timed(async () => {
    const client = server.client();
    for (let sent = 0; sent < JOBS; sent += BATCH) {
      if (taskSet) {
        await client.submitAll(tasks);
        continue;
      }
      const batch = new Array(BATCH);
      for (let i = 0; i < BATCH; i++)
        batch[i] = client.submit('work', PAYLOAD, { background: true });
      await Promise.all(batch);
    }
    server.worker().register(
      'work',
      (job) => {
        if (++processed === JOBS) drained();
        return handler(job);
      },
      { concurrency: CONCURRENCY },
    );
    await done;
  });
  detach?.();
  await server.close();
  return ms;
}

async function backgroundFastq() {
  let processed = 0;
  const queue = fastq.promise(async (payload) => {
    processed++;
    return payload;
  }, CONCURRENCY);
  queue.pause();
  return timed(async () => {
    for (let i = 0; i < JOBS; i++) void queue.push(PAYLOAD);
    queue.resume();
    await queue.drained();
    if (processed !== JOBS) throw new Error('fastq lost jobs');
  });
}

function memory(script = './core-memory.mjs') {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(new URL(script, import.meta.url))],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (child.status !== 0) throw new Error(`${script} failed: ${child.stderr}`);
  process.stdout.write(child.stdout);
}

/**
 * Kept outcomes (issue 14): background jobs submitted and drained with retention on
 * (failures kept, successes kept for the last 10,000) and off (nothing kept), alternated
 * round by round; the median of the round-by-round ratios.
 */
async function retention(handler) {
  const on = { keep: { completed: { count: 10_000 } } };
  const off = { keep: { completed: { count: 0 }, failed: { count: 0 } } };
  await backgroundGeartrain(handler, false, on); // warm-up
  await backgroundGeartrain(handler, false, off);
  const rounds = { on: [], off: [] };
  // More rounds than the others: the ratio of two close rates moves ±0.1 round to round.
  for (let i = 0; i < 3 * ROUNDS; i++) {
    rounds.on.push((JOBS * 1000) / (await backgroundGeartrain(handler, false, on)));
    rounds.off.push((JOBS * 1000) / (await backgroundGeartrain(handler, false, off)));
  }
  report('core-background-retention-on', 'jobs_per_s', median(rounds.on), 'jobs/s');
  report('core-background-retention-off', 'jobs_per_s', median(rounds.off), 'jobs/s');
  const ratios = rounds.on.map((rate, i) => rate / rounds.off[i]);
  report('core-background-retention-on', 'ratio_to_off', median(ratios), 'x');
  // What keeping adds to each job, in time: steadier between days than the ratio, which
  // moves with the speed of everything else (decision 22).
  report('core-background-retention-on', 'added_ns_per_job', median(addedNs(rounds)), 'ns');
}

/** Per round, the time a job took on the `on` side minus the `off` side, in ns. */
function addedNs(rounds) {
  return rounds.on.map((rate, i) => 1e9 / rate - 1e9 / rounds.off[i]);
}

/** Background throughput with the dashboard's metrics registered, beside without, alternated. */
async function dashboard(handler) {
  const withMetrics = (server) => {
    const metrics = createMetrics(server);
    return () => metrics.close();
  };
  await backgroundGeartrain(handler, false, {}, withMetrics); // warm-up
  await backgroundGeartrain(handler);
  const rounds = { on: [], off: [] };
  for (let i = 0; i < 3 * ROUNDS; i++) {
    rounds.on.push((JOBS * 1000) / (await backgroundGeartrain(handler, false, {}, withMetrics)));
    rounds.off.push((JOBS * 1000) / (await backgroundGeartrain(handler)));
  }
  report('core-background-metrics-on', 'jobs_per_s', median(rounds.on), 'jobs/s');
  const ratios = rounds.on.map((rate, i) => rate / rounds.off[i]);
  report('core-background-metrics-on', 'ratio_to_off', median(ratios), 'x');
  report('core-background-metrics-on', 'added_ns_per_job', median(addedNs(rounds)), 'ns');
}

/**
 * Steady background load on one server: batches of 1,000 submitted while workers drain
 * them (the queue held under 20,000), yielding to the event loop between batches as a
 * service between requests does, so that timers and sockets get their turn. Each call runs
 * one round of `ms` and returns its jobs/s, the drain of what is left included.
 */
function steadyLoad(server, handler) {
  const state = { processed: 0, until: Infinity, wake: null };
  server.worker().register(
    'work',
    (job) => {
      if (++state.processed >= state.until) {
        state.until = Infinity;
        state.wake();
      }
      return handler(job);
    },
    { concurrency: CONCURRENCY },
  );
  const client = server.client();
  const reach = (count) =>
    state.processed >= count
      ? undefined
      : new Promise((resolve) => {
          state.until = count;
          state.wake = resolve;
        });
  return async (ms) => {
    state.processed = 0;
    let submitted = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      const batch = new Array(1000);
      for (let i = 0; i < 1000; i++)
        batch[i] = client.submit('work', PAYLOAD, { background: true });
      await Promise.all(batch);
      submitted += 1000;
      if (submitted - state.processed > 20_000) await reach(submitted - 10_000);
      await new Promise(setImmediate);
    }
    await reach(submitted);
    return (submitted * 1000) / (performance.now() - start);
  };
}

/** Throughput while the page is open and /metrics scraped every second, beside no dashboard. */
async function watched(handler) {
  const ROUND_MS = 2000;
  const plainServer = createJobServer();
  const plain = steadyLoad(plainServer, handler);
  const watchedServer = createJobServer();
  const served = await serveDashboard(watchedServer); // defaults: process metrics, timings, 1 s feed
  const load = steadyLoad(watchedServer, handler);
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./dashboard-watcher.mjs', import.meta.url)),
      `http://127.0.0.1:${served.address.port}`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const tell = async (command) => {
    child.stdin.write(`${command}\n`);
    return (await lines.next()).value;
  };
  try {
    await tell('watch');
    await load(ROUND_MS / 2); // warm-up
    await tell('rest');
    await plain(ROUND_MS / 2);
    const ratios = [];
    const rates = { on: [], off: [] };
    for (let i = 0; i < ROUNDS; i++) {
      await tell('watch');
      rates.on.push(await load(ROUND_MS));
      await tell('rest');
      rates.off.push(await plain(ROUND_MS));
      ratios.push(rates.on.at(-1) / rates.off.at(-1));
    }
    // `exit` is answered with what the watcher saw.
    const seen = JSON.parse(await tell('exit'));
    // About one update and one scrape per second watched: less means it did not watch.
    const watchedSeconds = (ROUNDS * ROUND_MS + ROUND_MS / 2) / 1000;
    if (seen.events < watchedSeconds / 2 || seen.scrapes < watchedSeconds / 2) {
      throw new Error(`the watcher saw too little: ${JSON.stringify(seen)} in ${watchedSeconds} s`);
    }
    report('core-background-dashboard-watched', 'jobs_per_s', median(rates.on), 'jobs/s');
    report(
      'core-background-dashboard-watched',
      'unwatched_jobs_per_s',
      median(rates.off),
      'jobs/s',
    );
    report('core-background-dashboard-watched', 'updates_seen', seen.events, 'events');
    report('core-background-dashboard-watched', 'scrapes', seen.scrapes, 'scrapes');
    report('core-background-dashboard-watched', 'ratio_to_off', median(ratios), 'x');
  } finally {
    child.kill();
    await served.close();
    await watchedServer.close({ timeout: 0 });
    await plainServer.close({ timeout: 0 });
  }
}

/**
 * The page's snapshot of a busy server: 1,000 functions, 10,000 jobs running, 10,000
 * queued, 100,000 dead letters kept.
 */
async function snapshot() {
  const server = createJobServer();
  server.measureTimings();
  const client = server.connect();
  const FUNCTIONS = 1000;
  for (let f = 0; f < FUNCTIONS; f++) {
    for (let j = 0; j < 120; j++) {
      client.submit({ functionName: `fn-${f}`, payload: PAYLOAD, background: true });
    }
  }
  // 100,000 dead letters, 100 per function: the snapshot reads the newest 100 of them.
  const failer = server.connect();
  for (let f = 0; f < FUNCTIONS; f++) {
    failer.canDo(`fn-${f}`);
    for (let j = 0; j < 100; j++) failer.workFail(failer.grab());
    failer.cantDo(`fn-${f}`);
  }
  // 100 workers of 10 functions each, holding 100 jobs apiece, reporting progress.
  for (let w = 0; w < 100; w++) {
    const worker = server.connect({ address: `10.0.${w >> 8}.${w & 255}` });
    for (let f = 0; f < 10; f++) worker.canDo(`fn-${w * 10 + f}`);
    for (let j = 0; j < 100; j++) {
      const job = worker.grab();
      worker.workStatus(job, j, 100);
    }
  }
  const build = async () => JSON.stringify(await takeSnapshot(server));
  for (let i = 0; i < 20; i++) await build(); // warm-up
  const times = [];
  let bytes = 0;
  for (let i = 0; i < 51; i++) {
    const start = process.hrtime.bigint();
    bytes = Buffer.byteLength(await build());
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const running = (await server.functions()).reduce((n, f) => n + f.running, 0);
  if (running !== 10_000) throw new Error(`expected 10,000 running jobs, got ${running}`);
  const dead = await server.outcomeCount({ state: 'failed' });
  if (dead !== 100_000) throw new Error(`expected 100,000 dead letters, got ${dead}`);
  report('dashboard-snapshot-1000fn-10000running', 'bytes', bytes, 'B');
  report('dashboard-snapshot-1000fn-10000running', 'build_ms_p50', median(times), 'ms');
  report('dashboard-snapshot-1000fn-10000running', 'build_ms_max', Math.max(...times), 'ms');
  await server.close({ timeout: 0 });
}

export async function run() {
  const syncHandler = (job) => job.payload;
  const asyncHandler = async (job) => job.payload;
  if (process.env.CORE_BENCH === 'dashboard') {
    await dashboard(syncHandler);
    await watched(syncHandler);
    await snapshot();
    return;
  }
  if (process.env.CORE_BENCH === 'snapshot') {
    await snapshot();
    return;
  }
  if (process.env.CORE_BENCH === 'outcomes') {
    // Only the kept-outcome figures (issue 14).
    await retention(syncHandler);
    memory('./outcomes-memory.mjs');
    return;
  }
  const foreground = await contest({
    fastq: foregroundFastq,
    geartrain: () => foregroundGeartrain(syncHandler),
    geartrainAsync: () => foregroundGeartrain(asyncHandler),
    taskSet: () => foregroundTaskSet(syncHandler),
  });
  report('core-foreground', 'jobs_per_s', foreground.fastq, 'jobs/s', 'fastq');
  report('core-foreground', 'jobs_per_s', foreground.geartrain, 'jobs/s');
  report('core-foreground-async-handler', 'jobs_per_s', foreground.geartrainAsync, 'jobs/s');
  report('core-foreground-taskset', 'jobs_per_s', foreground.taskSet, 'jobs/s');
  report('core-foreground', 'ratio_to_fastq', foreground.geartrain / foreground.fastq, 'x');
  report('core-foreground-taskset', 'ratio_to_fastq', foreground.taskSet / foreground.fastq, 'x');

  const background = await contest({
    fastq: backgroundFastq,
    geartrain: () => backgroundGeartrain(syncHandler),
    geartrainAsync: () => backgroundGeartrain(asyncHandler),
    taskSet: () => backgroundGeartrain(syncHandler, true),
  });
  report('core-background', 'jobs_per_s', background.fastq, 'jobs/s', 'fastq');
  report('core-background', 'jobs_per_s', background.geartrain, 'jobs/s');
  report('core-background-async-handler', 'jobs_per_s', background.geartrainAsync, 'jobs/s');
  report('core-background-taskset', 'jobs_per_s', background.taskSet, 'jobs/s');
  report('core-background', 'ratio_to_fastq', background.geartrain / background.fastq, 'x');
  report('core-background-taskset', 'ratio_to_fastq', background.taskSet / background.fastq, 'x');

  memory();

  await retention(syncHandler);
  memory('./outcomes-memory.mjs');
  await dashboard(syncHandler);
  await watched(syncHandler);
  await snapshot();
}
