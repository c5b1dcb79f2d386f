import { globalApi, type SuiteApi } from './store-contract.js';
import {
  Case,
  type Define,
  type MakePeer,
  type MakeServer,
  type Setup,
} from './queue-behaviour/harness.js';
import { jobCases } from './queue-behaviour/jobs.js';
import { failureCases } from './queue-behaviour/failures.js';
import { controlCases } from './queue-behaviour/controls.js';
import { viewCases } from './queue-behaviour/views.js';
import { lifecycleCases, durableCases } from './queue-behaviour/lifecycle.js';
import { crossNodeCases } from './queue-behaviour/cross-node.js';
import { crossNodeSettingsCases, settingsCases } from './queue-behaviour/settings.js';

export type { MakePeer, MakeServer } from './queue-behaviour/harness.js';

export interface QueueBehaviourOptions {
  /** The runner's `describe`/`it` (default: the globals jest and vitest's `globals` provide). */
  api?: SuiteApi;
  /**
   * Another node on the same queue as `server` (a new `JobServer` of its own, sharing the
   * queue), for queues that several servers share. Without it the cross-node cases are
   * not registered (a local queue has no second node).
   */
  makePeer?: MakePeer;
  /**
   * The queue keeps queued background jobs when its server closes (a store-backed or shared
   * queue): a server opened again on it (`reopen`) runs them. Needs `reopen`.
   */
  durable?: boolean;
  /** A new server on the queue that `server` (closed by then) left. */
  reopen?: MakePeer;
  /** ms any one wait of a case may take before the case fails. Default 5000. */
  deadline?: number;
}

/**
 * The behaviour every job queue must have, as a suite to run unchanged on each: the local
 * queue in memory and with a store, and the shared queues. `makeServer(options)` returns a
 * new `JobServer` on a fresh, empty queue of the kind under test, made with those options
 * (the suite passes none today; a factory adds its own, `store` or `queue`, to them).
 *
 * The cases use only the public API of `@geartrain/core`, await every answer of the server
 * (a shared queue answers after a round trip), wait on events with a deadline rather than
 * sleep, and run on the real clock in tens of milliseconds. They assume that an event on
 * `server.events$` is emitted once the queue has the change it reports, so that a query
 * made after it sees the change.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * describeQueueBehaviour('local queue', () => createJobServer(), { api: { describe, it } });
 * ```
 */
export function describeQueueBehaviour(
  name: string,
  makeServer: MakeServer,
  options: QueueBehaviourOptions = {},
): void {
  const api = options.api ?? globalApi('describeQueueBehaviour');
  if (options.durable === true && options.reopen === undefined) {
    throw new TypeError('describeQueueBehaviour: durable: true needs a reopen function');
  }
  const setup: Setup = {
    makeServer,
    makePeer: options.makePeer,
    reopen: options.reopen,
    deadline: options.deadline ?? 5000,
  };
  const define: Define = (title, body) =>
    api.it(title, async () => {
      const kase = new Case(setup);
      let failure: { error: unknown } | null = null;
      try {
        await body(kase);
      } catch (error) {
        failure = { error };
      }
      // Everything is closed whether the case passed or not; its own failure comes first.
      try {
        await kase.end();
      } catch (error) {
        failure ??= { error };
      }
      if (failure !== null) throw failure.error;
    });

  api.describe(`Queue behaviour: ${name}`, () => {
    api.describe('jobs', () => jobCases(define));
    api.describe('failures, retries and outcomes', () => failureCases(define));
    api.describe('pauses, limits and schedules', () => controlCases(define));
    api.describe('views', () => viewCases(define));
    api.describe('settings', () => settingsCases(define));
    api.describe('lost workers and shutdown', () => {
      lifecycleCases(define);
      if (options.durable === true) durableCases(define);
    });
    // Only for queues that several servers share: a local queue has no second node.
    if (options.makePeer !== undefined) {
      api.describe('across nodes', () => {
        crossNodeCases(define);
        crossNodeSettingsCases(define);
      });
    }
  });
}
