// The first Gearman tutorial — a worker that reverses strings and a client that asks it
// to — with geartrain: a job server embedded in this process and exposed on a TCP port,
// and the worker and client talking to it over TCP as they would to gearmand.
import { createClient, createWorker } from '@geartrain/client';
import { createJobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';

const jobs = createJobServer();
const tcp = await serve(jobs, { host: '127.0.0.1', port: 0 }); // port 0: any free port
const servers = [`127.0.0.1:${tcp.address.port}`];
console.log('geartrain listening on', servers[0]);

// The worker: `gearman -w -f reverse -- rev` in the tutorial.
const worker = createWorker({ servers, clientId: 'reverse-worker' });
worker.register('reverse', (job) => {
  console.log(`worker: reversing "${job.text()}"`);
  return [...job.text()].reverse().join('');
});

// The client: `gearman -f reverse 'Hello World!'`.
const client = createClient({ servers });
const result = await client.run('reverse', 'Hello World!');
console.log(`client: ${result.toString()}`);

client.close();
await worker.close();
await jobs.close();
await tcp.close();
console.log('done');
