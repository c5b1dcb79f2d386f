// npm run bench -- burst
// Memory given back after a burst (issue 17): a server that has done some work and sits
// idle takes a burst of 300,000 background jobs (16-byte payloads, queued with no worker,
// then drained by 4 libgearman workers), and its RSS is watched for 30 s after the drain.
// Reported: RSS idle before the burst, with the burst queued, when the drain ended, and 30 s
// later; that last one as a ratio to the idle figure (the target is ≤ 1.2); and how long
// after the drain RSS was first back within 20% of idle (30 s when it never was).
//
// The idle baseline is taken after a warm-up, a smaller burst of 60,000 jobs queued and
// drained the same way and 15 s of rest: what an operator sees of a server that has been
// serving, with the code of those paths paged in from the node binary and compiled (some
// 10 MiB that a server just started does not have yet, and keeps from then on). RSS just
// after start is reported too, with the ratio to it. gearmand --threads=1 takes the same
// bursts, for comparison: it has the same fault (gearmand issue #284).
import { setTimeout as sleep } from 'node:timers/promises';
import { report } from './lib.mjs';
import { buildLoadgen, load, queuedJobs, rssMiB, startWorkers, withServer } from './servers.mjs';

const BURST = Number(process.env.BURST_JOBS ?? 300_000);
const WARM_UP = 60_000;
const WATCH_MS = 30_000;
const SAMPLE_MS = 250;

/** Queues `jobs` background jobs, then drains them with 4 workers; resolves at the drain's end. */
async function queueAndDrain(loadgen, port, jobs, onQueued) {
  load(loadgen, port, 'queue', jobs);
  onQueued?.();
  const stop = await startWorkers(loadgen, port, 4);
  // Bounded: a drain of 300,000 jobs takes ~10 s here.
  for (let polls = 0; (await queuedJobs(port)) > 0; polls++) {
    if (polls > 1_200) throw new Error('the burst did not drain in 2 minutes');
    await sleep(100);
  }
  await stop();
}

async function burst(loadgen, port, pid) {
  await sleep(1_000);
  const started = rssMiB(pid);
  await queueAndDrain(loadgen, port, WARM_UP);
  await sleep(15_000);
  const idle = rssMiB(pid);
  let queued = 0;
  await queueAndDrain(loadgen, port, BURST, () => (queued = rssMiB(pid)));
  const drained = rssMiB(pid);
  let backAfter = WATCH_MS / 1000;
  let settled = drained;
  for (let t = SAMPLE_MS; t <= WATCH_MS; t += SAMPLE_MS) {
    await sleep(SAMPLE_MS);
    settled = rssMiB(pid);
    if (settled <= idle * 1.2 && backAfter === WATCH_MS / 1000) backAfter = t / 1000;
  }
  return { started, idle, queued, drained, settled, backAfter };
}

export async function run() {
  const loadgen = buildLoadgen();
  for (const name of ['geartrain', 'gearmand-threads1']) {
    const peer = name === 'geartrain' ? undefined : name;
    const r = await withServer(name, (port, pid) => burst(loadgen, port, pid));
    const bench = 'tcp-burst-rss';
    report(bench, 'started_rss', r.started, 'MiB', peer);
    report(bench, 'idle_rss', r.idle, 'MiB', peer);
    report(bench, 'queued_rss', r.queued, 'MiB', peer);
    report(bench, 'drained_rss', r.drained, 'MiB', peer);
    report(bench, 'rss_30s_after_drain', r.settled, 'MiB', peer);
    report(bench, 'rss_30s_after_drain_to_idle', r.settled / r.idle, 'x', peer);
    report(bench, 'rss_30s_after_drain_to_started', r.settled / r.started, 'x', peer);
    report(bench, 'back_within_20pct_after', r.backAfter, 's', peer);
  }
}
