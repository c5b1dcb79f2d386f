// The same schedule on three replicas that share one queue in PostgreSQL: each replica
// defines it at its start, as every replica of a service does, and each tick still makes one
// job, run once, by whichever replica's worker is free. (No leader: the replicas' inserts of
// a tick are one compare-and-set on the schedule's row.)
// DATABASE_URL=postgres://… node cluster.mjs — `npm run postgres` at the repository's root
// starts a throwaway PostgreSQL for it.
import { createJobServer } from '@geartrain/core';
import { postgresQueue } from '@geartrain/postgres';

const url = process.env.DATABASE_URL;
if (url === undefined) {
  console.error('DATABASE_URL is not set: npm run postgres at the repository root starts one');
  process.exit(1);
}
const TICKS = 20;
const runs = new Map(); // the tick's unique id → the replicas that ran a job of it
let done;
const enough = new Promise((resolve) => (done = resolve));
const replicas = [];
for (const name of ['replica-1', 'replica-2', 'replica-3']) {
  const server = createJobServer({
    nodeName: name,
    queue: postgresQueue({ connectionString: url, schema: 'schedules_example' }),
  });
  await server.ready;
  await server.schedule('heartbeat', { every: 100, functionName: 'heartbeat' });
  server.worker().register('heartbeat', (job) => {
    runs.set(job.unique, [...(runs.get(job.unique) ?? []), name]);
    if (runs.size >= TICKS) done();
  });
  replicas.push(server);
}
await enough;
await replicas[0].unschedule('heartbeat');
for (const server of replicas) await server.close();

const byReplica = new Map();
for (const names of runs.values()) {
  for (const name of names) byReplica.set(name, (byReplica.get(name) ?? 0) + 1);
}
const twice = [...runs.values()].filter((names) => names.length > 1).length;
console.log(`three replicas, ${runs.size} ticks, ${twice} run twice`);
console.log(`run by: ${[...byReplica].map(([name, n]) => `${name} ${n}`).join(', ')}`);
