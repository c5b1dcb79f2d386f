import { StoreError } from '../errors.js';
import type { JobRecord, OutcomeRecord, ScheduleRecord } from '../store.js';
import type { SettingsRecord } from '../settings-types.js';
import type { ServerContext } from './context.js';
import { Job, priorityIndex } from './job.js';
import { KeptOutcome } from './kept-outcome.js';
import type { Endings } from './endings.js';
import type { FunctionTable } from './function-table.js';
import type { LiveJobs } from './live-jobs.js';
import type { OutcomeKeeper } from './outcome-keeper.js';
import type { Schedules } from './schedules.js';
import type { FunctionSettingsTable } from './settings.js';
import type { StoreWrites } from './store-writes.js';
import type { Retries } from '../retry.js';
import { toBody } from './payload.js';
import { isThenable } from './thenable.js';

/** What the replay takes up a store's records into: the local queue's parts. */
export interface ReplayTarget {
  readonly writes: StoreWrites;
  readonly live: LiveJobs;
  readonly kept: OutcomeKeeper;
  readonly functions: FunctionTable;
  readonly schedules: Schedules;
  readonly endings: Endings;
  readonly maxRetries: number;
  retryPolicyOf(job: Job): Retries | null;
  readonly settings: FunctionSettingsTable;
  /** Queued (its workers woken) or delayed by its `runAt`. */
  activate(job: Job): void;
  /** The jobs are in place: submissions need not wait any more. */
  replayed(): void;
}

/**
 * Lists what a previous run left in the local queue's store and takes it up: at once for a
 * synchronous store (undefined is returned), else when the store has listed it all.
 */
export function replayStored(queue: ReplayTarget, ctx: ServerContext): Promise<void> | undefined {
  const writes = queue.writes;
  const listed = writes.list();
  const highest = writes.highestSeq();
  const outcomes = writes.listOutcomes();
  const settings = writes.listSettings();
  const schedules = writes.listSchedules();
  if (
    !isThenable(listed) &&
    !isThenable(highest) &&
    !isThenable(outcomes) &&
    !isThenable(settings) &&
    !isThenable(schedules)
  ) {
    replay(queue, ctx, listed, highest, outcomes, settings, schedules);
    return undefined;
  }
  return Promise.all([listed, highest, outcomes, settings, schedules]).then(
    ([records, seq, kept, held, recurring]) =>
      replay(queue, ctx, records, seq, kept, held, recurring),
    (error: unknown) => {
      throw new StoreError('the job store could not list its jobs', error);
    },
  );
}

/**
 * Queues again the records a previous run left in the store (reference §5.1). Each job
 * keeps its handle and its place: records come in acceptance order, so each queue keeps
 * its order, and the jobs that had been handed out (`attempts` > 0: running when that run
 * ended, or waiting again after a lost worker) go to the front, their attempts counted
 * against `maxRetries`. New handles start above `highestSeq`, so no handle is reused.
 */
function replay(
  queue: ReplayTarget,
  ctx: ServerContext,
  records: Iterable<JobRecord>,
  highestSeq: number,
  outcomes: Iterable<OutcomeRecord>,
  settings: Iterable<SettingsRecord>,
  schedules: Iterable<ScheduleRecord>,
): void {
  const live = queue.live;
  if (highestSeq > live.seq) live.seq = highestSeq;
  // Settings first: a paused function's replayed jobs are not handed out, and a replayed
  // job's attempts are counted against its function's retry policy.
  queue.settings.restore(settings);
  // Kept outcomes first: a job that ended is not live, and its retention applies as ever.
  // In the order they ended, which the retention trims from the front.
  const now = ctx.now();
  const kept = [...outcomes].sort((a, b) => a.endedAt - b.endedAt || a.seq - b.seq);
  for (const record of kept) {
    const outcome = KeptOutcome.fromRecord(record);
    queue.kept.outcomes.add(outcome, outcome.body, now, false);
  }
  const again: Job[] = [];
  for (const record of records) {
    const job = replayOne(queue, ctx, record);
    if (job !== undefined && job.retries > 0) again.push(job);
  }
  // Pushed to the front newest first, so the oldest ends up at the head.
  for (let i = again.length - 1; i >= 0; i--) replayAgain(queue, ctx, again[i]!);
  // Last: a missed tick's job is a new job, numbered above every stored one. The jobs are
  // in place, so submissions need not wait any more: a tick's job and its schedule's
  // write go to the store in one turn.
  queue.replayed();
  queue.schedules.replay(schedules);
}

function replayOne(queue: ReplayTarget, ctx: ServerContext, record: JobRecord): Job | undefined {
  const live = queue.live;
  const fn = queue.functions.entry(record.functionName);
  const body = toBody(record.payload, true);
  const seq = record.seq;
  // Two records with one seq cannot be: a store keys them by it. Kept as it is.
  if (live.get(seq) !== undefined) {
    if (seq > live.seq) live.seq = seq;
    return undefined;
  }
  if (live.coalescedWith(fn, record.unique, body) !== undefined) {
    // A duplicate record (same function and unique): the live job covers it.
    if (seq > live.seq) live.seq = seq;
    queue.writes.remove(record);
    return undefined;
  }
  // A record whose id does not end with its seq (not written by a geartrain server) is
  // given a handle of this run, so that looking its handle up finds it.
  const handle = record.id.endsWith(`:${seq}`) ? record.id : undefined;
  const job = new Job({
    seq,
    fn,
    unique: record.unique,
    body,
    priority: priorityIndex(record.priority),
    background: true,
    runAt: record.runAt,
    reducer: record.reducer,
    handle,
    retry: record.retry ?? null,
  });
  job.retries = record.attempts;
  // The record does not keep when it was submitted: its outcome says the restart.
  live.add(job, ctx.stamps.now());
  job.stored = true;
  if (job.retries === 0) queue.activate(job);
  return job;
}

/** A replayed job that had been handed out: failed past `maxRetries`, else first in line. */
function replayAgain(queue: ReplayTarget, ctx: ServerContext, job: Job): void {
  const policy = queue.retryPolicyOf(job);
  const limit = policy === null ? queue.maxRetries : policy.attempts - 1;
  if (job.retries > limit) {
    queue.endings.endJob(job, 'RETRIES_EXHAUSTED', false, 'WORKER_LOST');
    return;
  }
  if (job.runAt !== 0 && job.runAt > ctx.now()) {
    queue.activate(job);
    return;
  }
  queue.endings.queueAgain(job);
}
