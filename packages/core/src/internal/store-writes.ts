import { StoreError } from '../errors.js';
import type { JobRecord, JobStore, OutcomeRecord, ScheduleRecord } from '../store.js';
import type { FunctionControl } from '../types.js';
import type { SettingsRecord } from '../settings-types.js';
import type { Job } from './job.js';
import { controlOf, recordOfControl } from './settings-record.js';
import { isThenable } from './thenable.js';

/**
 * The engine's dealings with its job store (decision 9): a background job is written before
 * it is acknowledged, its record is removed when it ends, and what a previous run left is
 * listed at start. Store methods may be synchronous, so a synchronous store costs no
 * promise per job.
 */
/**
 * The jobs whose write one promise of the store stands for. A store that commits in groups
 * (SQLite) returns the same promise for every job of a transaction, so a group costs one
 * `then` and no per-job closure. Jobs join a group in seq order, so a job's group is found
 * by its seq.
 */
interface WriteGroup {
  readonly written: PromiseLike<void>;
  readonly jobs: Job[];
  readonly firstSeq: number;
  lastSeq: number;
  readonly done: Promise<void>;
}

export class StoreWrites {
  /** Groups of writes in flight, oldest first: a submission coalesced onto such a job waits too. */
  private readonly groups: WriteGroup[] = [];

  constructor(
    readonly store: JobStore | null,
    /** The write of these jobs was committed. */
    private readonly persisted: (job: Job) => void,
    /** The store refused the write of this job. */
    private readonly refused: (job: Job) => void,
    /** Called when the store fails to update or remove a record (the job goes on or is finished). */
    private readonly onWriteError: (error: unknown, handle: string, operation: string) => void,
  ) {}

  /** The write of `job` still in flight, if any. */
  inFlight(job: Job): Promise<void> | undefined {
    for (const group of this.groups) {
      if (job.seq < group.firstSeq || job.seq > group.lastSeq) continue;
      // The group's jobs are in seq order: a binary search finds it.
      const jobs = group.jobs;
      let low = 0;
      let high = jobs.length - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const seq = jobs[middle]!.seq;
        if (seq === job.seq) return jobs[middle] === job ? group.done : undefined;
        if (seq < job.seq) low = middle + 1;
        else high = middle - 1;
      }
    }
    return undefined;
  }

  /**
   * Writes a job's record. `persisted` runs once it is committed, `refused` when the store
   * refuses it, and the submission fails with StoreError: thrown for a synchronous store,
   * as the returned Promise's rejection for an asynchronous one (undefined when the write
   * already happened).
   */
  add(job: Job): Promise<void> | undefined {
    const store = this.store!;
    let written: void | Promise<void>;
    try {
      written = store.add(job);
    } catch (error) {
      this.refused(job);
      throw new StoreError(`the job store refused ${job.handle}`, error);
    }
    if (!isThenable(written)) {
      this.persisted(job);
      return undefined;
    }
    const last = this.groups.at(-1);
    // A group's jobs stay in seq order (its search relies on it): a job of a lower seq (a
    // dead letter run again under its old handle) starts a group of its own, on the same
    // promise.
    if (last !== undefined && last.written === written && job.seq > last.lastSeq) {
      last.jobs.push(job);
      last.lastSeq = job.seq;
      return last.done;
    }
    const jobs = [job];
    const settled = (): WriteGroup => this.groups.splice(this.groups.indexOf(group), 1)[0]!;
    const group: WriteGroup = {
      written,
      jobs,
      firstSeq: job.seq,
      lastSeq: job.seq,
      done: Promise.resolve(written).then(
        () => {
          settled();
          for (const j of jobs) this.persisted(j);
        },
        (error: unknown) => {
          settled();
          for (const j of jobs) this.refused(j);
          throw new StoreError(
            jobs.length === 1
              ? `the job store refused ${job.handle}`
              : `the job store refused ${jobs.length} jobs (${job.handle} …)`,
            error,
          );
        },
      ),
    };
    this.groups.push(group);
    return group.done;
  }

  /** Writes a record's new `attempts` and `runAt`; a failure is reported, never thrown. */
  update(record: JobRecord): void {
    const store = this.store;
    if (store !== null) this.report(() => store.update(record), record.id, 'update');
  }

  /** Removes a record; a failure is reported, never thrown (the job is finished either way). */
  remove(record: JobRecord): void {
    const store = this.store;
    if (store !== null) this.report(() => store.remove(record), record.id, 'remove');
  }

  private report(write: () => void | Promise<void>, handle: string, operation: string): void {
    try {
      const written = write();
      if (isThenable(written)) {
        Promise.resolve(written).catch((error: unknown) =>
          this.onWriteError(error, handle, operation),
        );
      }
    } catch (error) {
      this.onWriteError(error, handle, operation);
    }
  }

  /** Keeps a job's outcome with the store, when it keeps outcomes. */
  keepOutcome(outcome: OutcomeRecord): void {
    const store = this.store;
    if (store?.keepOutcome !== undefined) {
      this.report(() => store.keepOutcome!(outcome), outcome.handle, 'keep the outcome of');
    }
  }

  forgetOutcome(seq: number, handle: string): void {
    const store = this.store;
    if (store?.forgetOutcome !== undefined) {
      this.report(() => store.forgetOutcome!(seq), handle, 'forget the outcome of');
    }
  }

  /**
   * Writes a change the caller waits for (a pause, a limit, a schedule): the returned
   * Promise settles when the store has it (undefined: it has it already); a refusal is a
   * StoreError, thrown or as the rejection.
   */
  private acknowledged(write: () => void | Promise<void>, what: string): Promise<void> | undefined {
    const fail = (error: unknown): never => {
      throw new StoreError(`the job store could not keep ${what}`, error);
    };
    let written: void | Promise<void>;
    try {
      written = write();
    } catch (error) {
      return fail(error);
    }
    return isThenable(written) ? Promise.resolve(written).then(undefined, fail) : undefined;
  }

  /**
   * Keeps a function's settings record (one with nothing set but its name removes it): by
   * `saveSettings`, or by `saveControl` (its pause and limits) for a store of the version
   * before records, or not at all.
   */
  saveSettings(record: SettingsRecord): Promise<void> | undefined {
    const write = this.settingsWrite(record);
    return write === undefined
      ? undefined
      : this.acknowledged(write, `the settings of ${record.functionName}`);
  }

  /** As `saveSettings`, for a write nobody waits for: a failure is reported, never thrown. */
  keepSettings(record: SettingsRecord): void {
    const write = this.settingsWrite(record);
    if (write !== undefined) this.report(write, record.functionName, 'keep the settings of');
  }

  private settingsWrite(record: SettingsRecord): (() => void | Promise<void>) | undefined {
    const store = this.store;
    if (store?.saveSettings !== undefined) return () => store.saveSettings!(record);
    if (store?.saveControl !== undefined) return () => store.saveControl!(controlOf(record));
    return undefined;
  }

  /**
   * The settings records a previous run kept; from a store of the version before records,
   * its pauses and limits (so that an old store keeps them).
   */
  listSettings(): Iterable<SettingsRecord> | Promise<Iterable<SettingsRecord>> {
    const store = this.store;
    if (store?.listSettings !== undefined) return store.listSettings();
    if (store?.listControls === undefined) return [];
    const fromControls = (controls: Iterable<FunctionControl>): SettingsRecord[] =>
      [...controls].flatMap((control) => recordOfControl(control) ?? []);
    const controls = store.listControls();
    return isThenable(controls)
      ? Promise.resolve(controls).then(fromControls)
      : fromControls(controls);
  }

  saveSchedule(record: ScheduleRecord): Promise<void> | undefined {
    const store = this.store;
    if (store?.saveSchedule === undefined) return undefined;
    return this.acknowledged(() => store.saveSchedule!(record), `the schedule ${record.id}`);
  }

  removeSchedule(id: string): Promise<void> | undefined {
    const store = this.store;
    if (store?.removeSchedule === undefined) return undefined;
    return this.acknowledged(() => store.removeSchedule!(id), `the removal of the schedule ${id}`);
  }

  listSchedules(): Iterable<ScheduleRecord> | Promise<Iterable<ScheduleRecord>> {
    return this.store?.listSchedules?.() ?? [];
  }

  /** The outcomes a previous run kept (none without a store that keeps them). */
  listOutcomes(): Iterable<OutcomeRecord> | Promise<Iterable<OutcomeRecord>> {
    return this.store?.listOutcomes?.() ?? [];
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
