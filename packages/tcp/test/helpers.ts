import type { TestScheduler } from 'rxjs/testing';
import { createJobServer, MemoryJobStore, type JobRecord, type JobStore } from '@geartrain/core';
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
