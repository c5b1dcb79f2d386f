import type { FunctionStatus, JobInfo, JobStatus, UniqueJobStatus } from '../types.js';
import type { Assignment } from '../transport-types.js';
import { JobState, RunInfo, type FunctionEntry, type Job, type WorkerState } from './job.js';
import { NO_ERRORS } from './kept-outcome.js';

// The engine's read-only answers (GET_STATUS, GET_STATUS_UNIQUE and the admin commands),
// computed from its tables without changing them.

export const ABSENT: JobStatus = { known: false, running: false, numerator: 0, denominator: 0 };

export function statusOf(job: Job): JobStatus {
  const run = job.run;
  if (run === null) return { known: true, running: false, numerator: 0, denominator: 0 };
  return { known: true, running: true, numerator: run.numerator, denominator: run.denominator };
}

/**
 * Status by unique id. With a function name the answer is exact; without one, the first
 * function (in creation order) with a job of that unique answers (gearmand's ambiguity).
 * Jobs with the `-` unique cannot be found this way, as in gearmand.
 */
export function statusByUnique(
  functions: ReadonlyMap<string, FunctionEntry>,
  unique: string,
  functionName?: string,
): UniqueJobStatus {
  let job: Job | undefined;
  if (unique !== '' && unique !== '-') {
    if (functionName !== undefined) job = functions.get(functionName)?.byUnique.get(unique);
    else {
      for (const fn of functions.values()) {
        job = fn.byUnique.get(unique);
        if (job !== undefined) break;
      }
    }
  }
  if (job === undefined) return { ...ABSENT, clientCount: 0, handle: undefined };
  let clientCount = 0;
  for (let a = job.attachments; a !== null; a = a.nextOfJob) clientCount++;
  return { ...statusOf(job), clientCount, handle: job.handle };
}

/** `status` and `prioritystatus`: delayed jobs count as queued, as gearmand shows them. */
export function functionRows(functions: Iterable<FunctionEntry>): FunctionStatus[] {
  const rows: FunctionStatus[] = [];
  for (const fn of functions) {
    rows.push({
      functionName: fn.name,
      total: fn.total,
      running: fn.running,
      workers: fn.workers.size,
      queued: {
        high: fn.queues[0].length + fn.delayed[0],
        normal: fn.queues[1].length + fn.delayed[1],
        low: fn.queues[2].length + fn.delayed[2],
      },
      delayed: fn.delayed[0] + fn.delayed[1] + fn.delayed[2],
      counts: { ...fn.counts },
    });
  }
  return rows;
}

/** One live job as the queries show it (`show jobs`, `JobServer.jobs`, `JobServer.job`). */
export function jobRow(job: Job): JobInfo {
  const run = job.run;
  return {
    handle: job.handle,
    functionName: job.fn.name,
    unique: job.unique,
    priority: job.priority,
    background: job.background,
    state:
      job.state === JobState.Running
        ? 'running'
        : job.state === JobState.Delayed
          ? 'delayed'
          : 'queued',
    retries: job.retries,
    persisted: job.stored,
    runAt: job.runAt,
    attempt: run?.attempt ?? job.retries + 1,
    numerator: run?.numerator ?? 0,
    denominator: run?.denominator ?? 0,
    startedAt: run?.startedAt ?? 0,
    worker: run?.holder.id ?? null,
    // A small body is a latin1 string: one char per byte.
    payloadSize: job.body.length,
    errors: job.failures === null ? NO_ERRORS : [...job.failures],
  };
}

/** Whether a job is live to the queries: not ended, nor still being written to the store. */
export function shown(job: Job): boolean {
  return job.state !== JobState.Done && job.state !== JobState.Pending;
}

/**
 * The job of an assignment `worker` still holds, or undefined: the assignment object is the
 * run record, so no handle lookup is needed, and a stale one is refused even when the same
 * job was handed out again.
 */
export function heldByAssignment(worker: WorkerState, assignment: Assignment): Job | undefined {
  if (!(assignment instanceof RunInfo)) return undefined;
  const job = assignment.job;
  return job.run === assignment && assignment.holder === worker ? job : undefined;
}
