// @geartrain/core: what an application uses to embed a job server. Adapters (transports,
// stores, test doubles) find the connection contract and the client and worker bases in
// @geartrain/core/transport.
export {
  createJobServer,
  DEFAULT_WAKE_TIMEOUT,
  JobServer,
  type CloseOptions,
  type JobPolicy,
  type JobServerOptions,
  type BurstPeak,
} from './server.js';
export { backoffDelay, type Backoff, type Retries, type RetryPolicy } from './retry.js';
export type { FunctionSettings, SettingsChanges, SettingsRecord } from './settings-types.js';
export {
  InProcessClient,
  type ClientOptions,
  type JobClient,
  type SubmitOptions,
  type SubmittedJob,
  type Task,
} from './client.js';
export { InProcessWorker } from './in-process-worker.js';
export type {
  JobContext,
  JobHandler,
  LoggerLike,
  RegisterOptions,
  StopOptions,
  WorkerCloseOptions,
  WorkerEvent,
  WorkerJobInfo,
  WorkerLike,
  WorkerOptions,
  WorkerPolicy,
} from './worker-types.js';
export { logging, maxJobs, maxRunTime, memoryLimit } from './policies.js';
export {
  MemoryJobStore,
  type JobRecord,
  type JobStore,
  type OutcomeRecord,
  type ScheduleRecord,
} from './store.js';
export {
  ConnectionClosedError,
  FunctionBusyError,
  FunctionNotFoundError,
  GeartrainError,
  InvalidArgumentError,
  JobExceptionError,
  JobFailedError,
  JobNotFoundError,
  QueueFullError,
  QueueUnavailableError,
  ServerClosedError,
  StoreError,
  SubmissionAbortedError,
  UniqueTooLargeError,
  WorkersElsewhereError,
  WorkFail,
} from './errors.js';
export type {
  AttemptError,
  AttemptFailure,
  CatchUp,
  ConnectionInfo,
  FunctionControl,
  FunctionLimits,
  FailReason,
  FunctionStatus,
  JobEvent,
  JobCounts,
  JobFilter,
  OutcomeFilter,
  FunctionTimings,
  LatencyHistogram,
  JobInfo,
  JobOutcome,
  JobStatus,
  JobUpdate,
  KeepLimit,
  PayloadInput,
  Priority,
  QueueLimits,
  RateLimit,
  Retention,
  NodeInfo,
  ScheduleInfo,
  ScheduleOptions,
  UniqueJobStatus,
} from './types.js';
