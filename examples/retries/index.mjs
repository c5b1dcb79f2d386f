// A flaky payment provider: charges fail now and then. The function's policy retries each
// charge with exponential back-off; a charge that fails every attempt is kept as a dead
// letter, with every attempt's error, and is run again by hand once the provider is back.
import { createJobServer } from '@geartrain/core';

const server = createJobServer();
await server.setJobPolicy('charge', {
  attempts: 3,
  backoff: { type: 'exponential', delay: 20, max: 200 },
});
server.events$.subscribe((event) => {
  if (event.type === 'retrying') {
    console.log(
      `retrying ${event.handle}: attempt ${event.attempt} ${event.reason}, next in ${event.delay} ms`,
    );
  }
});

class ProviderDeclined extends Error {}

let providerUp = true;
const failuresLeft = new Map([['order-1', 1]]); // order-1 fails once, then goes through
server.worker().register('charge', (job) => {
  const order = job.text();
  const left = failuresLeft.get(order) ?? 0;
  if (!providerUp || left > 0) {
    failuresLeft.set(order, left - 1);
    throw new ProviderDeclined(`provider declined ${order} (attempt ${job.attempt})`);
  }
  return `charged ${order} on attempt ${job.attempt}`;
});

const client = server.client();
const ended = (handle) =>
  new Promise((resolve) => {
    const subscription = server.events$.subscribe((event) => {
      if ((event.type === 'completed' || event.type === 'failed') && event.handle === handle) {
        subscription.unsubscribe();
        resolve(event.type);
      }
    });
  });

// 1. A charge that fails once, then succeeds on its second attempt.
const first = await client.submit('charge', 'order-1', { background: true, unique: 'order-1' });
console.log(`order-1: ${await ended(first.handle)}`);
const kept = await server.outcome(first.handle);
console.log(
  `  kept: ${kept === undefined ? 'nothing (successes are not kept by default)' : 'its outcome'}`,
);

// 2. The provider is down: every attempt of order-2 fails; it becomes a dead letter.
providerUp = false;
const second = await client.submit('charge', 'order-2', { background: true, unique: 'order-2' });
console.log(`order-2: ${await ended(second.handle)}`);
const dead = await server.outcome(second.handle);
console.log(`dead letter ${dead.handle}: ${dead.attempts} attempts, ${dead.reason}`);
// Each attempt's error: its message, and the class and stack of what the handler threw.
for (const error of dead.errors) {
  console.log(`  attempt ${error.attempt}: ${error.name}: ${error.message}`);
}
console.log(`  ${dead.errors[0].stack.split('\n')[1].trim()}`); // where it was thrown

// 3. The provider is back: the dead letter runs again, under the same handle.
providerUp = true;
const rerun = ended(second.handle); // listening before: it may end before retry() resolves
const handle = await server.retry(second.handle);
console.log(`run again as ${handle} (same handle: ${handle === second.handle})`);
console.log(`order-2: ${await rerun}`);
await server.close();
