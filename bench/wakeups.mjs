// npm run bench -- wakeups
// How many wake-ups (NOOP) and empty grabs (NO_JOB) a job costs. The workers are
// loadgen/counting-workers.mjs (raw sockets, libgearman's loop; they count what they
// receive), the clients are the libgearman load generator's. Contenders: geartrain,
// gearmand with its defaults (--worker-wakeup=0: every sleeper per job), and, when
// GEARTRAIN_BASELINE names an older build's command, that build (`geartrain-baseline`).
// Rounds alternate the contenders; each figure is the median of the scenario's rounds, and
// with a baseline the median of the round-by-round ratios is reported beside it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './lib.mjs';
import { baselineServer, buildLoadgen, load, servers, withServer } from './servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

async function startCountingWorkers(port, count) {
  const child = spawn(
    process.execPath,
    [join(here, 'loadgen/counting-workers.mjs'), String(port), String(count)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('counting workers not ready in 20 s')), 20_000);
    child.stdout.on('data', () => {
      if (out.includes('ready=1\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`counting workers exited with ${code}`)));
  });
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
    const line = out.split('\n').find((l) => l.startsWith('jobs='));
    return Object.fromEntries(
      line
        .split(' ')
        .map((kv) => kv.split('='))
        .map(([k, v]) => [k, +v]),
    );
  };
}

export async function run() {
  const loadgen = buildLoadgen();
  const contenders = { geartrain: servers.geartrain, gearmand: servers.gearmand };
  const baseline = baselineServer();
  if (baseline !== undefined) contenders['geartrain-baseline'] = baseline;

  const scenarios = [
    // Workers are rarely asleep here (a few NOOPs per thousand jobs), so the counts are
    // noisy: more rounds, more jobs.
    { bench: 'wakeups-16-clients-4-workers', workers: 4, clients: 16, jobs: 48_000, rounds: 7 },
    {
      bench: 'wakeups-1-client-100-idle-workers',
      workers: 100,
      clients: 1,
      jobs: 5_000,
      rounds: 3,
    },
    { bench: 'wakeups-16-clients-100-workers', workers: 100, clients: 16, jobs: 16_000, rounds: 3 },
  ];
  for (const scenario of scenarios) {
    const figures = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
    for (let round = 0; round < scenario.rounds; round++) {
      for (const [name, start] of Object.entries(contenders)) {
        const result = await withServer(start, async (port) => {
          const stop = await startCountingWorkers(port, scenario.workers);
          const { jobs_per_s } = load(
            loadgen,
            port,
            'concurrent',
            scenario.jobs,
            scenario.clients,
            0,
          );
          const counts = await stop();
          if (counts.jobs !== scenario.jobs) {
            throw new Error(`${name}: workers did ${counts.jobs} of ${scenario.jobs} jobs`);
          }
          return {
            jobs_per_s,
            noops: counts.noops / counts.jobs,
            no_jobs: counts.no_jobs / counts.jobs,
          };
        });
        figures[name].push(result);
        process.stderr.write(
          `${scenario.bench} round ${round + 1} ${name}: ${JSON.stringify(result)}\n`,
        );
      }
    }
    for (const [name, results] of Object.entries(figures)) {
      const peer = name === 'geartrain' ? undefined : name;
      report(
        scenario.bench,
        'noops_per_job',
        median(results.map((r) => r.noops)),
        'NOOP/job',
        peer,
      );
      report(
        scenario.bench,
        'no_jobs_per_job',
        median(results.map((r) => r.no_jobs)),
        'NO_JOB/job',
        peer,
      );
      report(
        scenario.bench,
        'jobs_per_s',
        median(results.map((r) => r.jobs_per_s)),
        'jobs/s',
        peer,
      );
    }
    const base = figures['geartrain-baseline'];
    if (base !== undefined) {
      for (const key of ['noops', 'no_jobs']) {
        const ratios = figures.geartrain.map((r, i) => r[key] / base[i][key]);
        report(scenario.bench, `${key}_per_job_ratio_to_baseline`, median(ratios), 'x');
      }
    }
  }
}
