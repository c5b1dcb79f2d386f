import { type JobRecord, type JobServer, type JobStore } from '@geartrain/core';
import { settle, type VirtualClock } from '../clock.js';
import assert from 'node:assert/strict';

// What the store contract's cases share: records to add, how two are compared, waits on
// the server's turns, and a worker that holds its jobs (store-contract.ts builds the suite).

/** Runs a case's body on a new store; its `restart()` reopens the storage. */
export type WithStore = (
  body: (store: JobStore, restart: () => Promise<JobStore>) => Promise<void>,
) => () => Promise<void>;
/** A server on the store; `clock` shares time across a "restart". */
export type ServerOn = (store: JobStore, clock: VirtualClock, maxRetries?: number) => JobServer;
/** The runner's `it`. */
export type It = (name: string, body: () => Promise<void> | void) => unknown;

let nextSeq = 0;
export function record(fields: Partial<JobRecord> = {}): JobRecord {
  const seq = fields.seq ?? ++nextSeq;
  if (seq > nextSeq) nextSeq = seq;
  return {
    seq,
    id: `H:contract:${seq}`,
    functionName: 'f',
    unique: '',
    priority: 'normal',
    payload: Buffer.from('payload'),
    runAt: 0,
    reducer: '',
    attempts: 0,
    retry: null,
    ...fields,
  };
}

export async function list(store: JobStore): Promise<JobRecord[]> {
  return [...(await store.list())];
}

export function same(actual: JobRecord, expected: JobRecord): void {
  assert.equal(actual.seq, expected.seq);
  assert.equal(actual.id, expected.id);
  assert.equal(actual.functionName, expected.functionName);
  assert.equal(actual.unique, expected.unique);
  assert.equal(actual.priority, expected.priority);
  assert.equal(actual.runAt, expected.runAt);
  assert.equal(actual.reducer, expected.reducer);
  assert.equal(actual.attempts, expected.attempts);
  assert.deepEqual(actual.retry, expected.retry);
  assert.ok(Buffer.from(actual.payload).equals(expected.payload), `payload of ${expected.id}`);
}

/** Lets the store's writes and the servers' handlers run (a few event-loop turns). */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await settle();
}

/** Waits, a bounded number of turns, until `done()` holds (it may ask the server). */
export async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !(await done()); i++) await settle();
  assert.ok(await done(), `timed out waiting until ${what}`);
}

/** A worker on `server` that records each job it is given and holds it until told. */
export function holdingWorker(server: JobServer, functions: string[], concurrency = 1) {
  const seen: { fn: string; payload: string; handle: string; attempt: number }[] = [];
  const pending: (() => void)[] = [];
  const worker = server.worker();
  for (const fn of functions) {
    worker.register(
      fn,
      (job) =>
        new Promise<void>((resolve) => {
          seen.push({ fn, payload: job.text(), handle: job.handle, attempt: job.attempt });
          pending.push(resolve);
        }),
      { concurrency },
    );
  }
  return {
    seen,
    /** Lets the jobs held so far complete. */
    finishAll(): void {
      for (const done of pending.splice(0)) done();
    },
  };
}

/**
 * The behaviour every {@link JobStore} must have, as a test suite: run it unchanged against
 * the in-memory store and against every durable store. `factory` returns an empty store.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * describeJobStoreContract('MemoryJobStore', () => new MemoryJobStore(), { api: { describe, it } });
 * ```
 */
