import { createJobServer, type JobStore } from '@geartrain/core';
import type { VirtualClock } from './clock.js';
import { recordCases } from './store-contract/records.js';
import { restartCases } from './store-contract/restarts.js';

/** The test functions of the runner in use (vitest, jest, node:test …). */
export interface SuiteApi {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void> | void) => unknown;
}

export interface StoreContractOptions {
  /**
   * The same storage opened again (a restart), for durable stores; default: the same
   * store object. It is given the store opened last (the first one, or what the previous
   * `reopen` returned), which it may close first, as a dead process would have released it.
   * Records added before must be listed by the reopened store.
   */
  reopen?: (store: JobStore) => JobStore | Promise<JobStore>;
  /** The runner's `describe`/`it` (default: the globals jest and vitest's `globals` provide). */
  api?: SuiteApi;
}

/** The runner's globals; `suite` names the caller in the error when there are none. */
export function globalApi(suite: string): SuiteApi {
  const g = globalThis as unknown as Partial<SuiteApi>;
  if (typeof g.describe !== 'function' || typeof g.it !== 'function') {
    throw new Error(`${suite}: pass { api: { describe, it } } (no global describe/it)`);
  }
  return g as SuiteApi;
}

export function describeJobStoreContract(
  name: string,
  factory: () => JobStore | Promise<JobStore>,
  options: StoreContractOptions = {},
): void {
  const { describe, it } = options.api ?? globalApi('describeJobStoreContract');
  const reopen = options.reopen ?? ((store: JobStore) => store);

  /** Runs `body` on a new store; its `restart()` reopens the storage (see `reopen`). */
  const withStore =
    (body: (store: JobStore, restart: () => Promise<JobStore>) => Promise<void>) => async () => {
      const store = await factory();
      let latest = store;
      const restart = async () => (latest = await reopen(latest));
      try {
        await body(store, restart);
      } finally {
        await latest.close?.();
        if (latest !== store) await store.close?.();
      }
    };

  /** A server on the store; `clock` shares time across a "restart". */
  const serverOn = (store: JobStore, clock: VirtualClock, maxRetries?: number) =>
    createJobServer({ store, scheduler: clock.scheduler, handlePrefix: 'H:contract', maxRetries });

  describe(`JobStore contract: ${name}`, () => {
    recordCases(it, withStore);
    restartCases(it, withStore, serverOn);
  });
}
