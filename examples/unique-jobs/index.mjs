// Unique ids: while a job with a given unique id is queued or running, submitting the same
// id again joins it — one job, one handle — instead of queueing a duplicate. Useful for
// "rebuild the report" buttons clicked twice, or cache warmers on many machines.
import { createClient, createWorker } from '@geartrain/client';
import { createJobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';

const jobs = createJobServer();
const tcp = await serve(jobs, { host: '127.0.0.1', port: 0 });
const servers = [`127.0.0.1:${tcp.address.port}`];
const client = createClient({ servers });

// No worker yet: both submissions find the first one queued.
const first = await client.submit('rebuild-report', 'march', {
  unique: 'report-2026-03',
  background: true,
});
const second = await client.submit('rebuild-report', 'march', {
  unique: 'report-2026-03',
  background: true,
});
console.log('first handle ', first.handle);
console.log('second handle', second.handle);
console.log('same job:', first.handle === second.handle);
const status = await client.statusByUnique('report-2026-03');
console.log('queued jobs of rebuild-report:', (await jobs.functions())[0].queued.normal);
console.log('known by unique id:', status.known);

let runs = 0;
const worker = createWorker({ servers });
worker.register('rebuild-report', (job) => {
  runs++;
  console.log(`worker: rebuilding ${job.text()} (${job.unique})`);
});
for (let i = 0; i < 500 && runs === 0; i++) await new Promise((r) => setTimeout(r, 10));
await new Promise((r) => setTimeout(r, 50));
console.log('the job ran', runs, 'time(s)');

client.close();
await worker.close();
await jobs.close();
await tcp.close();
