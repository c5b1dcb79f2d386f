// Runs in the pool's worker threads. `workerData.user` is a SharedArrayBuffer shared by
// every thread: its first slot makes exactly one job, in one thread, crash the thread.
import { threadId, workerData } from 'node:worker_threads';

const shared = new Int32Array(workerData.user);

export function thumbnail(job) {
  // Some CPU work, so that the five threads all take part.
  let x = 0;
  for (let i = 0; i < 2_000_000; i++) x = (x + i * 7) % 1_000_003;
  if (job.text() === 'photo-13' && Atomics.compareExchange(shared, 0, 0, 1) === 0) {
    // A native library blowing up, say: the whole thread dies mid-job.
    process.exit(1);
  }
  return `${job.text()}.thumb (thread ${threadId}, ${x % 10})`;
}
