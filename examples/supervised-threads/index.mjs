// Five worker threads kept alive the way a process supervisor keeps five Gearman workers
// alive: one crashes mid-job, the pool replaces it, and its job is retried — no job lost.
import { createJobServer } from '@geartrain/core';
import { attachThreadPool } from '@geartrain/threads';

const server = createJobServer({ maxRetries: 3 });
const pool = attachThreadPool(server, {
  threads: 5,
  functions: {
    thumbnail: { module: new URL('./handlers.mjs', import.meta.url).pathname, export: 'thumbnail' },
  },
  workerData: new SharedArrayBuffer(4),
});
pool.events$.subscribe((event) => {
  const detail =
    event.type === 'crashed'
      ? ` (exit code ${event.code}, ${event.jobs} job given back)`
      : event.type === 'restarted'
        ? ` (replaces thread ${event.replaces})`
        : '';
  console.log(`thread ${event.thread} ${event.type}${detail}`);
});
await pool.ready;

const photos = Array.from({ length: 40 }, (_, i) => `photo-${i}`);
const thumbnails = await server
  .client()
  .runAll(photos.map((payload) => ({ functionName: 'thumbnail', payload })));
const threads = new Set(thumbnails.map((t) => /thread (\d+)/.exec(t.toString())[1]));
console.log(`${thumbnails.length} of ${photos.length} thumbnails made, by ${threads.size} threads`);
console.log('photo-13:', thumbnails[13].toString().split(' ')[0]);
// The replacement thread comes up; five are alive again.
for (let i = 0; i < 500 && pool.stats.threads < 5; i++) await new Promise((r) => setTimeout(r, 10));
console.log('threads alive:', pool.stats.threads);
console.log('stats:', JSON.stringify(pool.stats));

await pool.close({ timeout: 5000 });
await server.close();
