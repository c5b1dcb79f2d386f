// npm run bench -- core
// 1. Foreground submit → result with a trivial handler, beside fastq's promise API doing
//    the same work in the same run (same concurrency, same number of jobs in flight).
// 2. Background jobs submitted, then drained by workers, beside fastq (push, then drained()).
// 3. Heap and RSS per queued background job with 1,000,000 queued 16-byte jobs (in a child
//    process started with --expose-gc, so the figures are after full collections).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createJobServer } from '@geartrain/core';
import fastq from 'fastq';
import { report } from './lib.mjs';

const JOBS = 100_000;
const BATCH = 10_000;
const CONCURRENCY = 16;
const PAYLOAD = Buffer.from('0123456789abcdef');
const ROUNDS = 5;

/** Best of ROUNDS runs of `fn` (which returns elapsed ms for JOBS jobs), as jobs/s. */
async function best(fn) {
  await fn(); // warm-up
  let fastest = Infinity;
  for (let i = 0; i < ROUNDS; i++) fastest = Math.min(fastest, await fn());
  return (JOBS * 1000) / fastest;
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

async function backgroundGeartrain(handler) {
  const server = createJobServer();
  let processed = 0;
  let drained;
  const done = new Promise((resolve) => (drained = resolve));
  const ms = await timed(async () => {
    const client = server.client();
    for (let sent = 0; sent < JOBS; sent += BATCH) {
      const batch = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) batch[i] = client.submit('work', PAYLOAD, { background: true });
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

function memory() {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(new URL('./core-memory.mjs', import.meta.url))],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (child.status !== 0) throw new Error(`core-memory failed: ${child.stderr}`);
  process.stdout.write(child.stdout);
}

export async function run() {
  const syncHandler = (job) => job.payload;
  const asyncHandler = async (job) => job.payload;
  const fastqForeground = await best(foregroundFastq);
  report('core-foreground', 'jobs_per_s', fastqForeground, 'jobs/s', 'fastq');
  report('core-foreground', 'jobs_per_s', await best(() => foregroundGeartrain(syncHandler)), 'jobs/s');
  report('core-foreground-async-handler', 'jobs_per_s', await best(() => foregroundGeartrain(asyncHandler)), 'jobs/s');

  report('core-background', 'jobs_per_s', await best(backgroundFastq), 'jobs/s', 'fastq');
  report('core-background', 'jobs_per_s', await best(() => backgroundGeartrain(syncHandler)), 'jobs/s');
  report('core-background-async-handler', 'jobs_per_s', await best(() => backgroundGeartrain(asyncHandler)), 'jobs/s');

  memory();
}
