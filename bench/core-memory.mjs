// Heap and RSS per queued background job: 1,000,000 jobs of 16 bytes queued, no worker.
// Run with --expose-gc (bench/core.mjs does).
import { createJobServer } from '@geartrain/core';
import { report } from './lib.mjs';

const COUNT = 1_000_000;
const settle = () => {
  globalThis.gc();
  globalThis.gc();
};

const server = createJobServer();
const client = server.client();
settle();
const before = process.memoryUsage();
for (let sent = 0; sent < COUNT; sent += 10_000) {
  const batch = [];
  for (let i = 0; i < 10_000; i++) {
    batch.push(client.submit('queued', Buffer.from('0123456789abcdef'), { background: true }));
  }
  await Promise.all(batch);
}
settle();
const after = process.memoryUsage();
if ((await server.functions())[0].total !== COUNT) throw new Error('jobs missing');
report('core-queued-memory', 'heap_bytes_per_job', (after.heapUsed - before.heapUsed) / COUNT, 'B');
report('core-queued-memory', 'rss_bytes_per_job', (after.rss - before.rss) / COUNT, 'B');
report(
  'core-queued-memory',
  'external_bytes_per_job',
  // `external` counts the array buffers already (the job index's times are one).
  (after.external - before.external) / COUNT,
  'B',
);
