// An embedded geartrain: the flows Gearman users know, with no network involved.
import { createJobServer } from '@geartrain/core';

const server = createJobServer();
const client = server.client();

// A worker, as a PHP GearmanWorker would register functions.
const worker = server.worker({ clientId: 'example-worker' });
worker.register('reverse', (job) => [...job.text()].reverse().join(''));
worker.register('encode', async (job) => {
  for (let step = 1; step <= 3; step++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    job.status(step, 3); // what jobStatus() polling sees
  }
  return `encoded ${job.text()}`;
});

// 1. Foreground: submit and wait for the result.
console.log('reverse:', (await client.run('reverse', 'hello gearman')).toString());

// 2. Background with progress: submit, then poll the status until the job is gone.
const video = await client.submit('encode', 'video.mp4', { background: true });
console.log('background job', video.handle);
for (;;) {
  const { known, running, numerator, denominator } = await client.status(video.handle);
  if (!known) break;
  console.log(`  running: ${running}, ${numerator}/${denominator}`);
  await new Promise((resolve) => setTimeout(resolve, 25));
}
console.log('  done');

// 3. Unique ids: the same background job submitted twice while queued is one job.
await worker.close();
const first = await client.submit('reverse', 'once', { unique: 'report-42', background: true });
const second = await client.submit('reverse', 'once', { unique: 'report-42', background: true });
console.log('same handle for the same unique id:', first.handle === second.handle);

// 4. A delayed job: close an order if it is still unpaid 50 ms from now.
server.events$.subscribe((event) => {
  if (event.type === 'delayed' || event.type === 'completed')
    console.log(`  event ${event.type} ${event.handle}`);
});
const order = await client.submit('close-order', JSON.stringify({ orderId: 7 }), { delay: 50 });
console.log('delayed job', order.handle, 'queued until its time');
// A second worker: closes orders, and works the queued 'reverse' job of step 3.
server
  .worker()
  .register('close-order', (job) => console.log(`  closed unpaid order ${job.json().orderId}`))
  .register('reverse', (job) => [...job.text()].reverse().join(''));
await new Promise((resolve) => setTimeout(resolve, 120));

await server.close();
console.log('server closed');
