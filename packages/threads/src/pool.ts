import { InvalidArgumentError, WorkFail, type WorkerCloseOptions } from '@geartrain/core';
import { checkOptions, refusal } from '@geartrain/core/transport';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  asyncScheduler,
  Subject,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { FromThread, HandlerSpec, ThreadData } from './messages.js';
import { FUNCTION_KEYS, POOL_CLOSE_KEYS, POOL_KEYS } from './option-keys.js';
import type {
  PoolCloseOptions,
  PoolTarget,
  PoolWorker,
  ThreadEvent,
  ThreadPoolOptions,
  ThreadPoolStats,
} from './pool-types.js';
import { Slot } from './slot.js';

/** Closes a worker; one written before `close` was its name has only `stop`. */
function closeWorker(worker: PoolWorker, options: WorkerCloseOptions): Promise<void> {
  const legacy = worker as unknown as { stop(options: WorkerCloseOptions): Promise<void> };
  return typeof worker.close === 'function' ? worker.close(options) : legacy.stop(options);
}

function defaultThreadEntry(): string {
  const sibling = fileURLToPath(new URL('./thread.js', import.meta.url));
  // From the sources (tests run them): the built entry.
  return existsSync(sibling)
    ? sibling
    : fileURLToPath(new URL('../dist/thread.js', import.meta.url));
}

/**
 * A supervised pool of worker threads serving job functions from handler modules,
 * attached to a job server as ordinary workers (one per thread).
 *
 * - A thread that dies (an uncaught error, `process.exit`, out of memory) is replaced, with
 *   back-off when it happens again and again; the jobs it held go back to the server once
 *   it is gone, so they are retried and never run twice at once.
 * - A job whose signal aborts (its timeout, a cancel, shutdown) is aborted in its thread;
 *   a thread that has not let go after `terminateGrace` is terminated and replaced.
 * - Threads are recycled after `maxJobsPerThread` jobs, `maxThreadAge` ms, or a heap above
 *   `maxHeapBytes`: a new thread starts, the old one finishes its jobs and exits.
 */
export class ThreadPool {
  private readonly slots = new Set<Slot>();
  private readonly eventsSubject = new Subject<ThreadEvent>();
  private readonly scheduler: SchedulerLike;
  private readonly entry: string;
  private readonly specs: Record<string, HandlerSpec>;
  private readonly timeouts: Record<string, number>;
  private readonly size: number;
  private readonly concurrency: number;
  private readonly grace: number;
  private nextThread = 0;
  private crashesInARow = 0;
  private closing: Promise<void> | null = null;
  private counters = { jobsRun: 0, failures: 0, crashes: 0, restarts: 0, recycles: 0 };
  private readonly restartTimers = new Set<Subscription>();
  private readonly createWorker: () => PoolWorker;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  /**
   * Resolves when every thread has loaded its handlers the first time; rejects if a thread
   * cannot load them (a missing module or export).
   */
  readonly ready: Promise<void>;

  constructor(
    target: PoolTarget,
    private readonly options: ThreadPoolOptions,
  ) {
    if (options === undefined) throw new InvalidArgumentError('pool options must be an object');
    checkOptions(options, 'pool options', POOL_KEYS);
    this.createWorker =
      typeof target === 'function' ? target : () => target.worker({ autorun: true });
    this.scheduler = options.scheduler ?? asyncScheduler;
    const entry = options.threadEntry;
    this.entry =
      entry === undefined
        ? defaultThreadEntry()
        : entry instanceof URL
          ? fileURLToPath(entry)
          : entry;
    this.size = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.concurrency = options.concurrencyPerThread ?? 1;
    this.grace = options.terminateGrace ?? 1000;
    if (!(this.size >= 1) || !(this.concurrency >= 1) || !Number.isInteger(this.size)) {
      throw new InvalidArgumentError('threads and concurrencyPerThread must be ≥ 1');
    }
    this.specs = {};
    this.timeouts = {};
    checkOptions(options.functions, 'pool functions');
    for (const [name, fn] of Object.entries(options.functions ?? {})) {
      if (typeof fn !== 'string') checkOptions(fn, `functions.${name}`, FUNCTION_KEYS);
      const spec = typeof fn === 'string' ? { module: fn } : fn;
      this.specs[name] = { module: spec.module, export: spec.export ?? 'default' };
      this.timeouts[name] =
        (typeof fn === 'string' ? undefined : fn.timeout) ?? options.timeout ?? 0;
    }
    if (Object.keys(this.specs).length === 0) {
      throw new InvalidArgumentError('give the pool at least one function');
    }
    let started = 0;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Handled here too, so that a pool nobody awaits does not make an unhandled rejection.
    this.ready.catch(() => undefined);
    const firstReady = () => {
      if (++started === this.size) this.resolveReady();
    };
    for (let i = 0; i < this.size; i++) this.start(undefined, firstReady);
  }

  /** Thread lifecycle events; see {@link ThreadEvent}. */
  get events$(): Observable<ThreadEvent> {
    return this.eventsSubject.asObservable();
  }

  get stats(): ThreadPoolStats {
    let threads = 0;
    for (const slot of this.slots) if (slot.state === 'serving') threads++;
    return { threads, ...this.counters };
  }

  /**
   * Stops taking jobs; running ones get `timeout` ms to finish (default 30 s), then their
   * signals abort, they go back to the server, and the threads are terminated.
   */
  close(options: PoolCloseOptions = {}): Promise<void> {
    const refused = refusal(() => checkOptions(options, 'close options', POOL_CLOSE_KEYS));
    if (refused !== null) return refused;
    this.closing ??= (async () => {
      for (const timer of this.restartTimers) timer.unsubscribe();
      this.restartTimers.clear();
      await Promise.all([...this.slots].map((slot) => this.retire(slot, options.timeout)));
      this.eventsSubject.complete();
    })();
    return this.closing;
  }

  private emit(event: ThreadEvent): void {
    if (this.eventsSubject.observed) this.eventsSubject.next(event);
  }

  private now(): number {
    return this.scheduler.now();
  }

  /** Starts a thread; once its handlers are loaded it gets a worker and serves. */
  private start(replaces: number | undefined, onReady?: () => void): void {
    const id = ++this.nextThread;
    const data: ThreadData = { functions: this.specs, user: this.options.workerData };
    const thread = new Worker(this.entry, {
      workerData: data,
      resourceLimits: this.options.resourceLimits,
    });
    const slot = new Slot(id, thread, replaces);
    this.slots.add(slot);
    thread.on('message', (message: FromThread) => this.onMessage(slot, message, onReady));
    thread.on('error', (error) => (slot.fatal ??= error));
    thread.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, message: FromThread, onReady?: () => void): void {
    switch (message.type) {
      case 'ready':
        this.serve(slot);
        onReady?.();
        return;
      case 'fatal':
        slot.fatal = new Error(message.message);
        this.rejectReady(slot.fatal);
        void slot.thread.terminate();
        return;
      case 'batch':
        this.onBatch(slot, message);
    }
  }

  private serve(slot: Slot): void {
    if (this.closing !== null || slot.state !== 'starting') {
      void slot.thread.terminate();
      return;
    }
    slot.state = 'serving';
    const worker = this.createWorker();
    slot.worker = worker;
    for (const name of Object.keys(this.specs)) {
      const timeout = this.timeouts[name]!;
      worker.register(
        name,
        (job) => slot.dispatch(job, (id) => this.aborted(slot, id)),
        timeout > 0
          ? { concurrency: this.concurrency, timeout }
          : { concurrency: this.concurrency },
      );
    }
    this.emit({ type: 'started', time: this.now(), thread: slot.id });
    if (slot.replaces !== undefined) {
      this.counters.restarts++;
      this.emit({ type: 'restarted', time: this.now(), thread: slot.id, replaces: slot.replaces });
    }
    const age = this.options.maxThreadAge;
    if (age !== undefined && age > 0) {
      slot.ageTimer = this.scheduler.schedule(() => this.recycle(slot, 'age'), age);
    }
  }

  private onBatch(slot: Slot, message: Extract<FromThread, { type: 'batch' }>): void {
    for (const update of message.updates) {
      const job = slot.pending.get(update.id)?.job;
      if (job === undefined) continue;
      if (update.kind === 'status') job.status(update.numerator, update.denominator);
      else if (update.kind === 'data') job.data(toBuffer(update.data));
      else job.warning(toBuffer(update.data));
    }
    for (const outcome of message.outcomes) {
      const pending = slot.pending.get(outcome.id);
      if (pending === undefined) continue;
      slot.pending.delete(outcome.id);
      pending.grace?.unsubscribe();
      this.counters.jobsRun++;
      slot.jobsRun++;
      if (outcome.kind === 'complete') {
        pending.resolve(outcome.data === null ? undefined : toBuffer(outcome.data));
      } else {
        this.counters.failures++;
        const error =
          outcome.kind === 'fail' ? new WorkFail(outcome.message) : new Error(outcome.message);
        // The thread's class name and stack, for the job's kept outcome.
        if (outcome.name !== undefined) error.name = outcome.name;
        if (outcome.stack !== undefined) error.stack = outcome.stack;
        pending.reject(error);
      }
    }
    if (message.outcomes.length > 0) {
      this.crashesInARow = 0;
      const { maxJobsPerThread, maxHeapBytes } = this.options;
      if (maxJobsPerThread !== undefined && slot.jobsRun >= maxJobsPerThread) {
        this.recycle(slot, 'jobs');
      } else if (maxHeapBytes !== undefined && message.heapUsed > maxHeapBytes) {
        this.recycle(slot, 'heap');
      }
    }
  }

  /** A job's signal aborted: tell its thread, and terminate the thread if it does not let go. */
  private aborted(slot: Slot, id: number): void {
    const pending = slot.pending.get(id);
    if (pending === undefined || pending.grace !== null) return;
    const reason: unknown = pending.job.signal.reason;
    slot.post({ type: 'abort', id, reason: reason instanceof Error ? reason.message : 'aborted' });
    pending.grace = this.scheduler.schedule(() => {
      if (!slot.pending.has(id)) return;
      // The job's outcome is decided already; the others on this thread go back to the server.
      slot.pending.delete(id);
      pending.reject(reason);
      if (slot.state === 'dead') return;
      this.counters.recycles++;
      this.emit({ type: 'recycled', time: this.now(), thread: slot.id, reason: 'timeout' });
      slot.state = 'retiring';
      this.replace(slot);
      void slot.thread.terminate();
    }, this.grace);
  }

  /** Replaces a thread that served well: a new one starts; the old one finishes and exits. */
  private recycle(slot: Slot, reason: 'jobs' | 'age' | 'heap'): void {
    if (slot.state !== 'serving' || this.closing !== null) return;
    this.counters.recycles++;
    this.emit({ type: 'recycled', time: this.now(), thread: slot.id, reason });
    this.replace(slot);
    void this.retire(slot, undefined);
  }

  /** Starts the thread that takes `slot`'s place (unless closing). */
  private replace(slot: Slot): void {
    slot.ageTimer?.unsubscribe();
    if (this.closing === null) this.start(undefined);
  }

  /** Closes a slot's worker (jobs finish up to `timeout`), then ends its thread. */
  private async retire(slot: Slot, timeout: number | undefined): Promise<void> {
    slot.ageTimer?.unsubscribe();
    if (slot.state === 'dead') return;
    slot.state = 'retiring';
    const worker = slot.worker;
    if (worker !== null) await closeWorker(worker, timeout === undefined ? {} : { timeout });
    // The thread may have exited while its worker closed.
    if ((slot.state as Slot['state']) === 'dead') return;
    await slot.thread.terminate(); // fulfilled once 'exit' was emitted
  }

  private onExit(slot: Slot, code: number): void {
    const expected = slot.state === 'retiring' || this.closing !== null;
    const jobs = slot.pending.size;
    slot.state = 'dead';
    slot.ageTimer?.unsubscribe();
    this.slots.delete(slot);
    // Only now, with the thread gone, do its jobs go back to the server: at once, and they
    // are never run twice at the same time.
    const worker = slot.worker;
    const closed = worker === null ? Promise.resolve() : closeWorker(worker, { timeout: 0 });
    void closed.then(() => slot.dropPending(new Error(`thread ${slot.id} exited`)));
    if (expected) {
      this.emit({ type: 'exited', time: this.now(), thread: slot.id, code });
      return;
    }
    this.counters.crashes++;
    this.emit({
      type: 'crashed',
      time: this.now(),
      thread: slot.id,
      code,
      error: slot.fatal,
      jobs,
    });
    const base = this.options.restartDelay ?? 100;
    const delay = Math.min(this.options.maxRestartDelay ?? 10_000, base * 2 ** this.crashesInARow);
    this.crashesInARow = Math.min(this.crashesInARow + 1, 30);
    const timer: Subscription = this.scheduler.schedule(
      () => {
        this.restartTimers.delete(timer);
        if (this.closing === null) this.start(slot.id);
      },
      this.crashesInARow === 1 ? 0 : delay,
    );
    this.restartTimers.add(timer);
  }
}

function toBuffer(data: ArrayBuffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/**
 * Runs job functions from handler modules in a supervised pool of worker threads, attached
 * to `target` (a job server, or a factory of workers such as `() => createWorker({ servers })`).
 */
export function attachThreadPool(target: PoolTarget, options: ThreadPoolOptions): ThreadPool {
  return new ThreadPool(target, options);
}
