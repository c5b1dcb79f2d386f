// npm run bench -- threads
// Tiny jobs through a job server + @geartrain/threads beside piscina running the same tiny
// task with the same thread count (its default of one task per thread at a time, and 64 at
// a time as geartrain's pool here: the better of the two), alternately, best of ROUNDS;
// and a CPU-bound job's throughput through the pool with 1 and with 2 threads.
import { createJobServer } from '@geartrain/core';
import { attachThreadPool } from '@geartrain/threads';
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { report } from './lib.mjs';

const tasks = fileURLToPath(new URL('./threads/tasks.mjs', import.meta.url));
const ROUNDS = 5;
const THREADS = 2;
const TINY = 100_000;
const SET = 10_000;
const PAYLOAD = Buffer.from('0123456789abcdef');

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

/** Jobs per second of `jobs` runs through a server with a pool of `threads`. */
async function throughGeartrain(functionName, jobs, threads, concurrencyPerThread) {
  const server = createJobServer();
  const pool = attachThreadPool(server, {
    threads,
    concurrencyPerThread,
    functions: { [functionName]: { module: tasks, export: functionName } },
  });
  await pool.ready;
  const client = server.client();
  const set = Array.from({ length: Math.min(SET, jobs) }, () => ({
    functionName,
    payload: PAYLOAD,
  }));
  await client.runAll(set.slice(0, 1000)); // warm-up
  const start = process.hrtime.bigint();
  for (let done = 0; done < jobs; done += set.length) await client.runAll(set);
  const rate = jobs / seconds(start);
  await pool.close({ timeout: 0 });
  await server.close({ timeout: 0 });
  return rate;
}

async function throughPiscina(jobs, concurrentTasksPerWorker) {
  const pool = new Piscina({
    filename: tasks,
    minThreads: THREADS,
    maxThreads: THREADS,
    concurrentTasksPerWorker,
  });
  const run = (count) => Promise.all(Array.from({ length: count }, () => pool.run(PAYLOAD)));
  await run(1000); // warm-up
  const start = process.hrtime.bigint();
  for (let done = 0; done < jobs; done += SET) await run(SET);
  const rate = jobs / seconds(start);
  await pool.destroy();
  return rate;
}

export async function run() {
  const best = { geartrain: 0, piscina: 0, unbatched: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    best.geartrain = Math.max(best.geartrain, await throughGeartrain('tiny', TINY, THREADS, 64));
    // One job per thread at a time: every message carries one job.
    best.unbatched = Math.max(best.unbatched, await throughGeartrain('tiny', TINY, THREADS, 1));
    // piscina's default (one task per thread at a time) and 64 at a time, its better one.
    best.piscina = Math.max(
      best.piscina,
      await throughPiscina(TINY, 1),
      await throughPiscina(TINY, 64),
    );
  }
  const bench = `threads-tiny-jobs-${THREADS}-threads`;
  report(bench, 'jobs_per_s', best.piscina, 'jobs/s', 'piscina');
  report(bench, 'jobs_per_s', best.geartrain, 'jobs/s');
  report(bench, 'ratio_to_piscina', best.geartrain / best.piscina, 'x');
  report(bench, 'jobs_per_s_one_job_per_thread', best.unbatched, 'jobs/s');

  const cpu = { 1: 0, 2: 0 };
  for (let round = 0; round < 3; round++) {
    for (const threads of [1, 2]) {
      cpu[threads] = Math.max(cpu[threads], await throughGeartrain('cpu', 400, threads, 1));
    }
  }
  report('threads-cpu-bound', 'jobs_per_s_1_thread', cpu[1], 'jobs/s');
  report('threads-cpu-bound', 'jobs_per_s_2_threads', cpu[2], 'jobs/s');
  report('threads-cpu-bound', 'speedup_2_threads', cpu[2] / cpu[1], 'x');
}
