// npm run bench -- tcp
// `geartrain serve` against gearmand (Debian's gearman-job-server) with its default options
// (4 I/O threads) and with `--threads=1`, its fastest setting on this 2-core machine. Each
// server runs as a separate process on a free loopback port and gets the same load; in every
// round each server takes its turn (the order rotates round to round), and each figure is
// the median over rounds, with geartrain's ratio to each peer as the median of the
// round-by-round ratios. The load generator is loadgen/gearman-load.c on libgearman (built
// here with cc; scripts/install-test-deps.sh installs libgearman-dev), except for 1 MiB
// payloads (loadgen/large.mjs, see there).
//
// Beside each load's throughput, the server's CPU time per job: utime + stime of its process
// from /proc/PID/stat over the measured load only. The server and the load generator share
// the two cores, so throughput moves with whatever else runs; CPU per job is far steadier,
// and whichever server spends less per job leaves more of the machine to the load.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './lib.mjs';
import { buildLoadgen, load as runLoad, parse, rssMiB, withServer } from './servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROUNDS = Number(process.env.TCP_ROUNDS ?? 5);
// TCP_LOADS=large,memory runs only those loads (of background, sequential, concurrent,
// large, memory); every one by default.
const LOADS = process.env.TCP_LOADS?.split(',');
const runs = (load) => LOADS === undefined || LOADS.includes(load);
const CONTENDERS = ['geartrain', 'gearmand-threads1', 'gearmand'];
const PEERS = CONTENDERS.slice(1);
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
let defaultWarmUp;

/** The process's CPU time so far (utime + stime), in µs. */
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its ')').
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_S;
}

/**
 * A measured load of `jobs` jobs: its figures from `body`, plus the server's CPU µs per job
 * over it.
 */
function measured(jobs, body) {
  return async (port, pid) => {
    const before = cpuUs(pid);
    const figures = await body(port, pid);
    return { ...figures, cpu_us_per_job: (cpuUs(pid) - before) / jobs };
  };
}

/** Runs `measure` on every contender, ROUNDS times, rotating the order; all results. */
async function contest(measure, warmUp = defaultWarmUp) {
  const results = Object.fromEntries(CONTENDERS.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const name = CONTENDERS[(round + i) % CONTENDERS.length];
      results[name].push(await withServer(name, measure, warmUp));
    }
  }
  return results;
}

/**
 * Reports one figure: each contender's median, and geartrain's ratio to each peer (the
 * median of the round-by-round ratios; for CPU, latency and memory, lower is better).
 */
function emit(bench, metric, results, key, unit) {
  const values = (name) => results[name].map((r) => r[key]);
  report(bench, metric, median(values('geartrain')), unit);
  for (const peer of PEERS) {
    report(bench, metric, median(values(peer)), unit, peer);
    const ratios = values('geartrain').map((v, i) => v / values(peer)[i]);
    report(bench, `${metric}_ratio`, median(ratios), 'x', peer);
  }
}

export async function run() {
  const loadgen = buildLoadgen();
  defaultWarmUp = (port) => {
    load(port, 'concurrent', 8_000, 16, 4);
    load(port, 'background', 8_000, 4);
  };
  const load = (port, ...args) => runLoad(loadgen, port, ...args);

  if (runs('background')) await backgroundLoad(load);
  if (runs('sequential')) await sequentialLoad(load);
  if (runs('concurrent')) await concurrentLoad(load);
  if (runs('large')) await largeLoad();
  if (runs('memory')) await memoryLoad(load);
}

/**
 * 50,000 background jobs submitted by one client in task sets of 1,000, then drained by 4
 * worker connections: the drain rate, the submission rate and the rate of the whole cycle
 * (submit + drain), whose CPU per job is measured.
 */
async function backgroundLoad(load) {
  const BACKGROUND = 50_000;
  const background = await contest(
    measured(BACKGROUND, (port) => load(port, 'background', BACKGROUND, 4)),
  );
  const bg = 'tcp-background-4-workers';
  emit(bg, 'drain_jobs_per_s', background, 'drain_per_s', 'jobs/s');
  emit(bg, 'submit_jobs_per_s', background, 'submit_per_s', 'jobs/s');
  emit(bg, 'submit_and_drain_jobs_per_s', background, 'jobs_per_s', 'jobs/s');
  emit(bg, 'cpu_per_job', background, 'cpu_us_per_job', 'us');
}

async function sequentialLoad(load) {
  const SEQUENTIAL = 10_000;
  const sequential = await contest(
    measured(SEQUENTIAL, (port) => load(port, 'sequential', SEQUENTIAL)),
  );
  const seq = 'tcp-foreground-sequential';
  emit(seq, 'jobs_per_s', sequential, 'jobs_per_s', 'jobs/s');
  emit(seq, 'p50_latency', sequential, 'p50_us', 'us');
  emit(seq, 'p99_latency', sequential, 'p99_us', 'us');
  emit(seq, 'cpu_per_job', sequential, 'cpu_us_per_job', 'us');
}

async function concurrentLoad(load) {
  const CONCURRENT = 32_000;
  const concurrent = await contest(
    measured(CONCURRENT, (port) => load(port, 'concurrent', CONCURRENT, 16, 4)),
  );
  const conc = 'tcp-foreground-16-clients-4-workers';
  emit(conc, 'jobs_per_s', concurrent, 'jobs_per_s', 'jobs/s');
  emit(conc, 'cpu_per_job', concurrent, 'cpu_us_per_job', 'us');
}

async function largeLoad() {
  const LARGE = 200;
  const large = await contest(
    measured(LARGE, (port) =>
      parse(
        execFileSync(
          process.execPath,
          [join(here, 'loadgen/large.mjs'), String(port), String(LARGE), String(1 << 20)],
          { encoding: 'utf8', timeout: 120_000 },
        ),
      ),
    ),
  );
  emit('tcp-foreground-1mib', 'mb_per_s', large, 'mb_per_s', 'MB/s');
  emit('tcp-foreground-1mib', 'cpu_per_job', large, 'cpu_us_per_job', 'us');
}

async function memoryLoad(load) {
  const QUEUED = 100_000;
  const memory = await contest(async (port, pid) => {
    const before = rssMiB(pid);
    load(port, 'queue', QUEUED);
    await new Promise((r) => setTimeout(r, 200));
    return { bytes_per_job: ((rssMiB(pid) - before) * 2 ** 20) / QUEUED };
  }, null);
  emit('tcp-queued-rss', 'rss_bytes_per_job', memory, 'bytes_per_job', 'B');
}
