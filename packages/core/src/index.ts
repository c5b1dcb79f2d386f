export { createJobServer, JobServer, type CloseOptions, type JobServerOptions } from './server.js';
export {
  Connection,
  type Assignment,
  type CanDoOptions,
  type ConnectionOptions,
  type ConnectionSink,
  type JobListener,
  type SubmitOutcome,
  type SubmitRequest,
} from './connection.js';
export {
  InProcessClient,
  resolveRunAt,
  type ClientOptions,
  type JobClient,
  type SubmitOptions,
  type SubmittedJob,
  type Task,
} from './client.js';
export {
  InProcessWorker,
  encodeResult,
  type JobContext,
  type JobHandler,
  type RegisterOptions,
  type StopOptions,
  type WorkerEvent,
  type WorkerJobInfo,
  type WorkerLike,
  type WorkerOptions,
} from './worker.js';
export {
  applyPolicies,
  logging,
  maxJobs,
  maxRunTime,
  memoryLimit,
  type LoggerLike,
  type WorkerPolicy,
} from './policies.js';
export { MemoryJobStore, type JobRecord, type JobStore } from './store.js';
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
  ServerClosedError,
  StoreError,
  SubmissionAbortedError,
  UniqueTooLargeError,
  WorkFail,
} from './errors.js';
export type {
  ConnectionInfo,
  FailReason,
  FunctionStatus,
  JobEvent,
  JobInfo,
  JobStatus,
  JobUpdate,
  PayloadInput,
  Priority,
  QueueLimits,
  UniqueJobStatus,
} from './types.js';
