// The queue behaviour suite on the local queue: in memory, as createJobServer() makes it,
// and with the core's MemoryJobStore, whose jobs a server opened again on it runs.
import { createJobServer, MemoryJobStore, type JobServer } from '@geartrain/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeQueueBehaviour } from '../src/index.js';

describeQueueBehaviour('local queue in memory', (options) => createJobServer(options), {
  api: { describe, it },
});

/** The store each server was made on, for `reopen`. */
const stores = new WeakMap<JobServer, MemoryJobStore>();

function serverOn(store: MemoryJobStore, options = {}): JobServer {
  const server = createJobServer({ ...options, store });
  stores.set(server, store);
  return server;
}

describeQueueBehaviour(
  'local queue with a MemoryJobStore',
  (options) => serverOn(new MemoryJobStore(), options),
  {
    api: { describe, it },
    durable: true,
    // A server opened again on the store that the closed one wrote to.
    reopen: (closed, options) => serverOn(stores.get(closed)!, options),
  },
);

// Every case closes what it opened: no timer of a server, worker or wait is left running.
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
let timersBefore = 0;
beforeAll(() => {
  timersBefore = timers();
});
afterAll(() => {
  expect(timers(), 'timers left running after the cases').toBeLessThanOrEqual(timersBefore);
});
