import { InvalidArgumentError } from '../errors.js';
import type {
  FunctionStatus,
  FunctionTimings,
  JobFilter,
  JobInfo,
  JobStatus,
  UniqueJobStatus,
} from '../types.js';
import { checkLimit } from './checks.js';
import type { RunInfo } from './job.js';
import type { LocalQueue } from './local-queue.js';
import { ABSENT, functionRows, jobRow, shown, statusByUnique, statusOf } from './queries.js';
import { smallest } from './smallest.js';

/**
 * The local queue's read-only answers (GET_STATUS, GET_STATUS_UNIQUE, the admin listings,
 * `JobServer.jobs`), computed from its tables without changing them.
 */
export class LocalViews {
  constructor(private readonly queue: LocalQueue) {}

  status(handle: string): JobStatus {
    const job = this.queue.live.byHandle(handle);
    return job === undefined ? ABSENT : statusOf(job);
  }

  statusByUnique(unique: string, functionName?: string): UniqueJobStatus {
    return statusByUnique(this.queue.functions.byName, unique, functionName);
  }

  functionStatus(): FunctionStatus[] {
    return functionRows(this.queue.functions.byName.values());
  }

  timings(): FunctionTimings[] {
    const rows: FunctionTimings[] = [];
    for (const fn of this.queue.functions.byName.values()) {
      if (fn.latencies !== null) rows.push(fn.latencies.snapshot(fn.name));
    }
    return rows;
  }

  /**
   * Live jobs. With a state, only the jobs of that state are visited (the running ones
   * through their holders, the delayed ones through their heap, the queued ones from the
   * front of their queues), so a page showing the first hundred of each stays cheap with a
   * million queued.
   */
  jobs(filter: JobFilter = {}): JobInfo[] {
    const { state, functionName } = filter;
    const limit = filter.limit ?? Infinity;
    checkLimit(limit);
    const functions = this.queue.functions;
    const fn = functionName === undefined ? undefined : functions.get(functionName);
    if (functionName !== undefined && fn === undefined) return [];
    const fns = fn === undefined ? [...functions.byName.values()] : [fn];
    switch (state) {
      case undefined: {
        const rows: JobInfo[] = [];
        for (const job of this.queue.live.values()) {
          if (rows.length >= limit) break;
          if (shown(job) && (fn === undefined || job.fn === fn)) rows.push(jobRow(job));
        }
        return rows;
      }
      case 'running': {
        const runs: RunInfo[] = [];
        for (const f of fns) {
          for (const worker of f.workers) {
            for (let run = worker.heldHead; run !== null; run = run.nextHeld) {
              if (run.job.fn === f) runs.push(run);
            }
          }
        }
        return smallest(runs, limit, (a, b) => a.startedAt < b.startedAt).map((r) => jobRow(r.job));
      }
      case 'delayed':
        return this.queue.live.earliestDelayed(limit, fn).map(jobRow);
      case 'queued': {
        const rows: JobInfo[] = [];
        for (const f of fns) {
          for (const list of f.queues) {
            for (let job = list.head; job !== null && rows.length < limit; job = job.next) {
              rows.push(jobRow(job));
            }
          }
        }
        return rows;
      }
      default:
        throw new InvalidArgumentError(`unknown job state: ${String(state)}`);
    }
  }

  /** A live job by its handle. */
  job(handle: string): JobInfo | undefined {
    const job = this.queue.live.byHandle(handle);
    return job !== undefined && shown(job) ? jobRow(job) : undefined;
  }
}
