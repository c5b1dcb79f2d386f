// A long-running worker as PHP worker libraries run them: lifecycle events, a structured
// log, and limits that end the worker cleanly — a maximum run time, a memory limit — after
// which a supervisor loop starts a fresh one. The queue never notices.
import { createJobServer } from '@geartrain/core';
import { pino } from 'pino';

const server = createJobServer();
const logger = pino({ base: undefined, timestamp: false }, pino.destination(1));
const client = server.client();

// 30 jobs wait in the queue.
await client.submitAll(
  Array.from({ length: 30 }, (_, i) => ({
    functionName: 'import-row',
    payload: String(i),
    background: true,
  })),
);

const leak = []; // a handler that leaks, as handlers do
let generation = 0;
let done = 0;
while (done < 30 && generation < 10) {
  generation++;
  const worker = server.worker({
    clientId: `importer-${generation}`,
    logger, // every lifecycle event as a JSON line
    maxRunTime: 800, // ms: stop after this long, between jobs
    memoryLimit: process.memoryUsage().rss + 24 * 1024 * 1024, // stop above +24 MB
  });
  worker.events$.subscribe((event) => {
    if (event.type === 'afterRun') {
      console.log(`worker ${generation} stopped: ${event.reason} after ${event.jobsDone} jobs`);
    }
  });
  worker.register('import-row', async (job) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    if (generation === 1) leak.push(Buffer.alloc(6 * 1024 * 1024, 1)); // 6 MB a job
    done++;
    return `row ${job.text()} imported`;
  });
  await worker.run(); // resolves when a policy stops it
}
console.log(`${done} rows imported by ${generation} workers`);
await server.close();
