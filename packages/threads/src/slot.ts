import type { JobContext } from '@geartrain/core';
import type { Worker } from 'node:worker_threads';
import type { Subscription } from 'rxjs';
import { copyOf, type JobMessage, type ToThread } from './messages.js';
import type { PoolWorker } from './pool-types.js';

export interface Pending {
  readonly job: JobContext;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  grace: Subscription | null;
}

/** One thread, the worker that takes its jobs from the server, and the jobs it runs. */
export class Slot {
  readonly pending = new Map<number, Pending>();
  worker: PoolWorker | null = null;
  state: 'starting' | 'serving' | 'retiring' | 'dead' = 'starting';
  jobsRun = 0;
  private nextId = 0;
  private outbox: JobMessage[] = [];
  private transfer: ArrayBuffer[] = [];
  private flushScheduled = false;
  ageTimer: Subscription | null = null;
  fatal: Error | undefined;

  constructor(
    readonly id: number,
    readonly thread: Worker,
    /** The crashed thread this one replaces, if any. */
    readonly replaces: number | undefined,
  ) {}

  /** Sends a job to the thread (batched per turn); settles with its outcome. */
  dispatch(job: JobContext, onAbort: (id: number) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      // A copy the thread owns: the server keeps the original for a retry.
      const payload = copyOf(job.payload);
      this.outbox.push({
        id,
        functionName: job.functionName,
        handle: job.handle,
        unique: job.unique,
        attempt: job.attempt,
        payload,
      });
      this.transfer.push(payload);
      this.pending.set(id, { job, resolve, reject, grace: null });
      const signal = job.signal;
      if (signal.aborted) onAbort(id);
      else signal.addEventListener('abort', () => onAbort(id), { once: true });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  post(message: ToThread): void {
    if (this.state !== 'dead') this.thread.postMessage(message);
  }

  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    if (this.state === 'dead') return;
    this.thread.postMessage({ type: 'run', jobs } satisfies ToThread, transfer);
  }

  /** Ends every job still pending (after the worker gave them back). */
  dropPending(error: Error): void {
    for (const pending of this.pending.values()) {
      pending.grace?.unsubscribe();
      pending.reject(error);
    }
    this.pending.clear();
  }
}
