// The queue this project's tests run on (vitest.config.ts): the testing package's doubles
// run on the local queue (project `testing`) and on a shared queue, each server a node of
// its own in-memory double (project `testing-shared`), as a user's tests would use them.
import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import { inject, it } from 'vitest';
import {
  createQueueDouble,
  createTestServer,
  VirtualClock,
  type TestServer,
  type TestServerOptions,
} from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The queue this project's tests run on. */
    queue: 'local' | 'shared';
  }
}

export const queueKind: 'local' | 'shared' = inject('queue') ?? 'local';

/** A test server on this project's queue: on a shared one, with the double on its clock. */
export function testServer(options: TestServerOptions = {}): TestServer {
  if (queueKind === 'local') return createTestServer(options);
  const clock = new VirtualClock();
  const double = createQueueDouble({ scheduler: clock.scheduler });
  return createTestServer({ ...options, clock, queue: double.node(), nodeName: 'test' });
}

/** A job server on this project's queue (real time). */
export function jobServer(options: JobServerOptions = {}): JobServer {
  if (queueKind === 'local') return createJobServer(options);
  return createJobServer({ ...options, queue: createQueueDouble().node(), nodeName: 'test' });
}

/**
 * `it` for a case that holds on the local queue only: on a shared queue it is skipped, with
 * `reason` in its title.
 */
export function localOnly(reason: string) {
  return (title: string, body: () => unknown): void => {
    if (queueKind === 'local') it(title, body);
    else it.skip(`${title} [local queue only: ${reason}]`, body);
  };
}
