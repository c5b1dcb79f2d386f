// The queue behaviour suite on the local queue: in memory, as createJobServer() makes it,
// and with the core's MemoryJobStore, whose jobs a server opened again on it runs.
import { createJobServer, MemoryJobStore, type JobServer } from '@geartrain/core';
import { describe, it } from 'vitest';
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
    reopen: (closed, options) => serverOn(stores.get(closed)!, options),
  },
);
