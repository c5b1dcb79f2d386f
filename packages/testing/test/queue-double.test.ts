// The queue behaviour suite on a shared queue: nodes on the in-memory double of a shared
// queue's backend, whose every answer comes a turn later (decision 33).
import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import { describe, expect, it } from 'vitest';
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

describe('foreground jobs on a shared queue (decision 36: any node runs them)', () => {
  it("runs one on another node's worker, and waits for a worker when none can", async () => {
    const double = createQueueDouble();
    const a = nodeOn(double);
    const b = nodeOn(double);
    await Promise.all([a.ready, b.ready]);
    try {
      // No worker anywhere: the job waits for one, as with gearmand.
      const waiting = a.client().run('alone', 'x');
      b.worker()
        .register('fg', () => 'from B')
        .start();
      expect((await a.client().run('fg', 'x')).toString()).toBe('from B');
      b.worker().register('alone', () => 'at last');
      expect((await waiting).toString()).toBe('at last');
    } finally {
      await a.close({ timeout: 0 });
      await b.close({ timeout: 0 });
      await double.close();
    }
  });
});
