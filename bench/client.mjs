// npm run bench -- client
// Client throughput against gearmand (Debian's gearman-job-server, default options), three
// clients on the same server in the same run, alternately, best of ROUNDS:
//   - geartrain: @geartrain/client (createClient);
//   - libgearman: the C library behind PHP's extension and the gearman tools
//     (loadgen/gearman-load.c, the tcp benchmark's load generator);
//   - npm-gearman: the `gearman` package on npm (mreinstein/node-gearman 2.1.0).
// Background: 50,000 submissions, pipelined in sets of 1,000 (libgearman's task sets).
// Foreground: 32,000 round trips, 16 in flight, worked by 4 libgearman echo workers.
import { createClient } from '@geartrain/client';
import gearman from 'gearman';
import { report } from './lib.mjs';
import { buildLoadgen, load, startWorkers, withServer } from './servers.mjs';

const ROUNDS = 3;
const BACKGROUND = 50_000;
const FOREGROUND = 32_000;
const IN_FLIGHT = 16;
const BATCH = 1000;
const PAYLOAD = Buffer.from('0123456789abcdef');

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

const geartrain = {
  async background(port, jobs) {
    const client = createClient({ servers: [`127.0.0.1:${port}`] });
    const tasks = Array.from({ length: BATCH }, () => ({
      functionName: 'bench',
      payload: PAYLOAD,
      background: true,
    }));
    await client.echo();
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < jobs; sent += BATCH) await client.submitAll(tasks);
    const elapsed = seconds(start);
    client.close();
    return jobs / elapsed;
  },
  async foreground(port, jobs) {
    const client = createClient({ servers: [`127.0.0.1:${port}`] });
    await client.echo();
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = 0; i < jobs / IN_FLIGHT; i++) {
          const result = await client.run('bench', PAYLOAD);
          if (result.length !== PAYLOAD.length) throw new Error('wrong result');
        }
      }),
    );
    const elapsed = seconds(start);
    client.close();
    return jobs / elapsed;
  },
};

/** The npm `gearman` package: one connection, replies counted by event. */
function npmClient(port) {
  const client = gearman('127.0.0.1', port);
  return new Promise((resolve) => client.connect(() => resolve(client)));
}

const npmGearman = {
  async background(port, jobs) {
    const client = await npmClient(port);
    const start = process.hrtime.bigint();
    await new Promise((resolve) => {
      let created = 0;
      const batch = () => {
        for (let i = 0; i < BATCH; i++) client.submitJob('bench', PAYLOAD, { background: true });
      };
      client.on('JOB_CREATED', () => {
        created++;
        if (created === jobs) resolve();
        else if (created % BATCH === 0) batch();
      });
      batch();
    });
    const elapsed = seconds(start);
    client.close();
    return jobs / elapsed;
  },
  async foreground(port, jobs) {
    const client = await npmClient(port);
    const start = process.hrtime.bigint();
    await new Promise((resolve) => {
      let done = 0;
      let sent = 0;
      const submit = () => {
        sent++;
        client.submitJob('bench', PAYLOAD);
      };
      client.on('WORK_COMPLETE', (job) => {
        if (job.payload.length !== PAYLOAD.length) throw new Error('wrong result');
        if (++done === jobs) resolve();
        else if (sent < jobs) submit();
      });
      for (let i = 0; i < IN_FLIGHT; i++) submit();
    });
    const elapsed = seconds(start);
    client.close();
    return jobs / elapsed;
  },
};

export async function run() {
  const loadgen = buildLoadgen();
  const libgearman = {
    background(port, jobs) {
      return jobs / load(loadgen, port, 'queue', jobs).elapsed;
    },
    foreground(port, jobs) {
      return load(loadgen, port, 'concurrent', jobs, IN_FLIGHT, 0).jobs_per_s;
    },
  };
  const clients = { geartrain, libgearman, 'npm-gearman': npmGearman };
  const best = { background: {}, foreground: {} };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, client] of Object.entries(clients)) {
      // A fresh gearmand per measurement: queued background jobs do not pile up.
      best.background[name] = Math.max(
        best.background[name] ?? 0,
        await withServer('gearmand', async (port) => {
          await client.background(port, 5_000); // warm-up
          return client.background(port, BACKGROUND);
        }),
      );
      best.foreground[name] = Math.max(
        best.foreground[name] ?? 0,
        await withServer('gearmand', async (port) => {
          const stop = await startWorkers(loadgen, port, 4);
          try {
            await client.foreground(port, 3_200); // warm-up
            return await client.foreground(port, FOREGROUND);
          } finally {
            await stop();
          }
        }),
      );
    }
  }
  for (const kind of ['background', 'foreground']) {
    const bench = `client-${kind}-vs-gearmand`;
    const figures = best[kind];
    report(bench, 'jobs_per_s', figures['npm-gearman'], 'jobs/s', 'npm-gearman');
    report(bench, 'jobs_per_s', figures.libgearman, 'jobs/s', 'libgearman');
    report(bench, 'jobs_per_s', figures.geartrain, 'jobs/s');
    report(bench, 'ratio_to_npm_gearman', figures.geartrain / figures['npm-gearman'], 'x');
    report(bench, 'ratio_to_libgearman', figures.geartrain / figures.libgearman, 'x');
  }
}
