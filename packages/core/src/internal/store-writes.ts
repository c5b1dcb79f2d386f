import { StoreError } from '../errors.js';
import type { JobRecord, JobStore } from '../store.js';
import type { Job } from './job.js';
import { isThenable } from './thenable.js';

/**
 * The engine's dealings with its job store (decision 9): a background job is written before
 * it is acknowledged, its record is removed when it ends, and what a previous run left is
 * listed at start. Store methods may be synchronous, so a synchronous store costs no
 * promise per job.
 */
export class StoreWrites {
  /** Writes in flight: a submission coalesced onto such a job waits for the same write. */
  private readonly pending = new Map<Job, Promise<void>>();

  constructor(
    readonly store: JobStore | null,
    /** Called when the store fails to remove a record (the job itself is finished). */
    private readonly onRemoveError: (error: unknown, record: JobRecord) => void,
  ) {}

  /** The write of `job` still in flight, if any. */
  inFlight(job: Job): Promise<void> | undefined {
    return this.pending.get(job);
  }

  /**
   * Writes a job's record. `confirmed` runs once it is committed; `refused` runs when the
   * store refuses it, and the submission fails with StoreError: thrown for a synchronous
   * store, as the returned Promise's rejection for an asynchronous one (undefined when the
   * write already happened).
   */
  add(job: Job, confirmed: () => void, refused: () => void): Promise<void> | undefined {
    const store = this.store!;
    let written: void | Promise<void>;
    try {
      written = store.add(job);
    } catch (error) {
      refused();
      throw new StoreError(`the job store refused ${job.handle}`, error);
    }
    if (!isThenable(written)) {
      confirmed();
      return undefined;
    }
    const pending = Promise.resolve(written).then(
      () => {
        this.pending.delete(job);
        confirmed();
      },
      (error: unknown) => {
        this.pending.delete(job);
        refused();
        throw new StoreError(`the job store refused ${job.handle}`, error);
      },
    );
    this.pending.set(job, pending);
    return pending;
  }

  /** Removes a record; a failure is reported, never thrown (the job is finished either way). */
  remove(record: JobRecord): void {
    const store = this.store;
    if (store === null) return;
    try {
      const removed = store.remove(record);
      if (isThenable(removed)) {
        Promise.resolve(removed).catch((error: unknown) => this.onRemoveError(error, record));
      }
    } catch (error) {
      this.onRemoveError(error, record);
    }
  }

  /** The records a previous run left (none without a store); synchronous stores list at once. */
  list(): Iterable<JobRecord> | Promise<Iterable<JobRecord>> {
    return this.store === null ? [] : this.store.list();
  }
}
