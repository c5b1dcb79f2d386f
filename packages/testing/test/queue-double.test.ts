// The queue behaviour suite on a shared queue: nodes on the in-memory double of a shared
// queue's backend, whose every answer comes a turn later (decision 33).
import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import { describe, it } from 'vitest';
import { createQueueDouble, describeQueueBehaviour, type QueueDouble } from '../src/index.js';

/** The double each server was made on, for its peers and for `reopen`. */
const doubles = new WeakMap<JobServer, QueueDouble>();
const all = new Set<QueueDouble>();

function nodeOn(double: QueueDouble, options: JobServerOptions = {}): JobServer {
  const server = createJobServer({ ...options, queue: double.node() });
  doubles.set(server, double);
  return server;
}

describeQueueBehaviour(
  'shared queue (in-memory double)',
  (options) => {
    const double = createQueueDouble();
    all.add(double);
    return nodeOn(double, options);
  },
  {
    api: { describe, it },
    makePeer: (server, options) => nodeOn(doubles.get(server)!, options),
    durable: true,
    reopen: (closed, options) => nodeOn(doubles.get(closed)!, options),
  },
);
