import type { JobPolicy } from '../retry.js';
import type { SubmitOutcome } from '../transport-types.js';
import type {
  FunctionControl,
  FunctionLimits,
  FunctionStatus,
  JobFilter,
  JobInfo,
  JobOutcome,
  JobStatus,
  OutcomeFilter,
  QueueLimits,
  ScheduleInfo,
  ScheduleOptions,
  UniqueJobStatus,
} from '../types.js';

/** A value now (the local queue), or later (a shared queue asks its backend). */
export type Answer<T> = T | Promise<T>;

/**
 * What the job server asks of its queue besides the dispatcher's traffic (decision 33):
 * the views, jobs by hand, each function's settings and the schedules. The local queue
 * answers at once; a shared queue answers after a round trip. The job server's methods
 * return Promises either way, so that an application sees one API.
 */
export interface QueueAdmin {
  /** Resolves once the queue is ready (a store replayed, a backend connected). */
  open(): Promise<void>;

  status(handle: string): Answer<JobStatus>;
  statusByUnique(unique: string, functionName?: string): Answer<UniqueJobStatus>;
  functions(): Answer<FunctionStatus[]>;
  jobs(filter: JobFilter): Answer<JobInfo[]>;
  job(handle: string): Answer<JobInfo | undefined>;

  outcome(handle: string): Answer<JobOutcome | undefined>;
  outcomes(filter: OutcomeFilter): Answer<JobOutcome[]>;
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>): Answer<number>;
  cancel(handle: string): Answer<boolean>;
  /** Runs a dead letter again; undefined when none is kept under the handle. */
  retry(handle: string): Answer<SubmitOutcome | undefined>;
  discard(handle: string): Answer<boolean>;
  discardFailed(functionName: string): Answer<number>;

  setJobPolicy(functionName: string, policy: JobPolicy | null): Answer<void>;
  jobPolicy(functionName: string): Answer<JobPolicy | null>;
  setPaused(functionName: string, paused: boolean): Answer<void>;
  setLimits(functionName: string, limits: FunctionLimits | null): Answer<void>;
  control(functionName: string): Answer<FunctionControl>;
  controls(): Answer<FunctionControl[]>;

  schedule(id: string, options: ScheduleOptions): Answer<ScheduleInfo>;
  unschedule(id: string): Answer<boolean>;
  schedules(): Answer<ScheduleInfo[]>;

  createFunction(functionName: string): Answer<void>;
  dropFunction(functionName: string): Answer<void>;
  setMaxQueue(functionName: string, limits: QueueLimits): Answer<boolean>;

  /** Closes the queue's side: a store, a backend connection. */
  close(): Promise<void>;
}
