import type { TestScheduler } from 'rxjs/testing';
import {
  createJobServer,
  MemoryJobStore,
  type JobRecord,
  type JobServer,
  type JobStore,
} from '@geartrain/core';
import { GearmanServer } from '../src/index.js';

// Shared by the TCP package's tests.

export const b = (text: string) => Buffer.from(text, 'latin1');
export const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** Moves a TestScheduler used as a plain virtual clock to `to`, running every timer due. */
export function advancer(scheduler: TestScheduler) {
  return (to: number) => {
    scheduler.maxFrames = to;
    scheduler.flush();
    scheduler.frame = to;
  };
}

export function setup(
  options: ConstructorParameters<typeof GearmanServer>[1] = {},
  jobOptions = {},
) {
  const jobs = createJobServer({ handlePrefix: 'H:t', ...jobOptions });
  return new GearmanServer(jobs, options);
}

/** A memory store whose adds wait while it is closed (an asynchronous store, writing). */
export function gatedStore() {
  let release = () => {};
  let gate: Promise<void> = Promise.resolve();
  const records = new MemoryJobStore();
  const store: JobStore = {
    add: async (record: JobRecord) => {
      await gate;
      records.add(record);
    },
    update: (record) => records.update(record),
    remove: (record) => records.remove(record),
    list: () => [],
    highestSeq: () => 0,
  };
  return {
    store,
    close: () => {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

/**
 * Makes methods of `target` answer only once `release()` is called, as a shared queue
 * answers after a round trip: each call waits, then does its work and resolves (or rejects
 * with `failure`, when given).
 */
export function answeringLater<T extends object>(
  target: T,
  names: readonly (keyof T & string)[],
  failure?: Error,
) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  for (const name of names) {
    const method = target[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(target, name, {
      configurable: true,
      value: async (...args: unknown[]) => {
        await gate;
        if (failure !== undefined) throw failure;
        return method.apply(target, args);
      },
    });
  }
  return { release };
}

/** The connections a job server opens from now on answer GET_STATUS* later (see above). */
export function statusLater(jobs: JobServer, failure?: Error) {
  const releases: (() => void)[] = [];
  const connect = jobs.connect.bind(jobs);
  jobs.connect = (options) => {
    const connection = connect(options);
    releases.push(answeringLater(connection, ['status', 'statusByUnique'], failure).release);
    return connection;
  };
  return { release: () => releases.forEach((release) => release()) };
}
