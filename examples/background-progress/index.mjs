// Submit a job in the background (PHP's doBackground), then poll its status (jobStatus)
// while the worker reports numerator/denominator, until the job is done.
import { createClient, createWorker } from '@geartrain/client';
import { createJobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';

const jobs = createJobServer();
const tcp = await serve(jobs, { host: '127.0.0.1', port: 0 });
const servers = [`127.0.0.1:${tcp.address.port}`];

const worker = createWorker({ servers });
worker.register('transcode', async (job) => {
  const steps = 5;
  for (let step = 1; step <= steps; step++) {
    await new Promise((resolve) => setTimeout(resolve, 40)); // the work
    job.status(step, steps); // WORK_STATUS: what status polling sees
  }
  return `transcoded ${job.text()}`;
});

const client = createClient({ servers });
const video = await client.submit('transcode', 'holiday.mp4', { background: true });
console.log('submitted', video.handle);

let last = '';
for (let poll = 0; poll < 500; poll++) {
  const { known, running, numerator, denominator } = await client.status(video.handle);
  if (!known) break; // a finished job is no longer known (as in gearmand)
  const line = running ? `running ${numerator}/${denominator}` : 'queued';
  if (line !== last) console.log(line);
  last = line;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log('done');

client.close();
await worker.close();
await jobs.close();
await tcp.close();
