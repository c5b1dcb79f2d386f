export {
  createJobServer,
  DEFAULT_WAKE_TIMEOUT,
  JobServer,
  type CloseOptions,
  type JobServerOptions,
} from './server.js';
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
  ClientBase,
  InProcessClient,
  resolveRunAt,
  type SubmitTarget,
  type ClientOptions,
  type JobClient,
  type SubmitOptions,
  type SubmittedJob,
  type Task,
} from './client.js';
export { WorkerBase, encodeResult, type Registration } from './worker.js';
export { InProcessWorker } from './in-process-worker.js';
export type {
  JobContext,
  JobHandler,
  LoggerLike,
  RegisterOptions,
  StopOptions,
  WorkAssignment,
  WorkerEvent,
  WorkerJobInfo,
  WorkerLike,
  WorkerOptions,
  WorkerPolicy,
  WorkReport,
} from './worker-types.js';
export { applyPolicies, logging, maxJobs, maxRunTime, memoryLimit } from './policies.js';
export { MemoryJobStore, type JobRecord, type JobStore } from './store.js';
export { deliver } from './internal/job.js';
export { toBuffer } from './internal/payload.js';
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
