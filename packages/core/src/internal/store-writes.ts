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
    /** Called when the store fails to update or remove a record (the job goes on or is finished). */
    private readonly onWriteError: (error: unknown, record: JobRecord, operation: string) => void,
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

  /** Writes a record's new `attempts` and `runAt`; a failure is reported, never thrown. */
  update(record: JobRecord): void {
    const store = this.store;
    if (store !== null) this.report(() => store.update(record), record, 'update');
  }

  /** Removes a record; a failure is reported, never thrown (the job is finished either way). */
  remove(record: JobRecord): void {
    const store = this.store;
    if (store !== null) this.report(() => store.remove(record), record, 'remove');
  }

  private report(write: () => void | Promise<void>, record: JobRecord, operation: string): void {
    try {
      const written = write();
      if (isThenable(written)) {
        Promise.resolve(written).catch((error: unknown) =>
          this.onWriteError(error, record, operation),
        );
      }
    } catch (error) {
      this.onWriteError(error, record, operation);
    }
  }

  /** The records a previous run left (none without a store); synchronous stores list at once. */
  list(): Iterable<JobRecord> | Promise<Iterable<JobRecord>> {
    return this.store === null ? [] : this.store.list();
  }

  /** The largest seq the store ever held (0 without a store). */
  highestSeq(): number | Promise<number> {
    return this.store === null ? 0 : this.store.highestSeq();
  }
}
