import type { ClientOptions, SubmitOptions, Task } from '../client-types.js';
import type { CanDoOptions, ConnectionOptions } from '../transport-types.js';
import type { CloseOptions, JobServerOptions } from '../server-types.js';
import type {
  FunctionLimits,
  JobFilter,
  OutcomeFilter,
  QueueLimits,
  RateLimit,
  ScheduleOptions,
} from '../types.js';
import type { RegisterOptions, WorkerCloseOptions, WorkerOptions } from '../worker-types.js';
import type { SettingsChanges } from '../settings-types.js';
import { knownKeys } from './checks.js';

// The keys of every options object of the public API, for `checkOptions` (decision 31): a
// key not listed is refused. `knownKeys` holds each list to its type, so a key added to a
// type and not here (or the reverse) does not compile.

export const SERVER_KEYS = knownKeys<JobServerOptions>({
  scheduler: true,
  handlePrefix: true,
  maxRetries: true,
  maxQueue: true,
  maxUniqueLength: true,
  queue: true,
  nodeName: true,
  store: true,
  workerWakeup: true,
  wakeTimeout: true,
  exceptions: true,
  logger: true,
  jobPolicies: true,
  random: true,
  keep: true,
  outcomeDataLimit: true,
  releaseMemory: true,
});
export const CLOSE_KEYS = knownKeys<CloseOptions>({ timeout: true });
export const QUEUE_KEYS = knownKeys<QueueLimits>({ high: true, normal: true, low: true });
export const JOB_FILTER_KEYS = knownKeys<JobFilter>({
  state: true,
  functionName: true,
  limit: true,
});
export const OUTCOME_FILTER_KEYS = knownKeys<OutcomeFilter>({
  functionName: true,
  state: true,
  limit: true,
});
export const CONNECTION_KEYS = knownKeys<ConnectionOptions>({ address: true, sink: true });
export const CAN_DO_KEYS = knownKeys<CanDoOptions>({ timeout: true, capacity: true });

export const SUBMIT_KEYS = knownKeys<SubmitOptions>({
  priority: true,
  unique: true,
  background: true,
  runAt: true,
  delay: true,
  signal: true,
  attempts: true,
  backoff: true,
  transaction: true,
});
export const TASK_KEYS = knownKeys<Task>({
  functionName: true,
  payload: true,
  priority: true,
  unique: true,
  background: true,
  runAt: true,
  delay: true,
  attempts: true,
  backoff: true,
});
export const CLIENT_KEYS = knownKeys<ClientOptions>({ exceptions: true });

export const WORKER_KEYS = knownKeys<WorkerOptions>({
  clientId: true,
  autorun: true,
  maxJobs: true,
  maxRunTime: true,
  memoryLimit: true,
  measureMemory: true,
  logger: true,
  policies: true,
});
export const REGISTER_KEYS = knownKeys<RegisterOptions>({ timeout: true, concurrency: true });
export const WORKER_CLOSE_KEYS = knownKeys<WorkerCloseOptions>({ timeout: true, reason: true });

export const SCHEDULE_KEYS = knownKeys<ScheduleOptions>({
  cron: true,
  every: true,
  timezone: true,
  functionName: true,
  payload: true,
  priority: true,
  unique: true,
  catchUp: true,
});
export const LIMITS_KEYS = knownKeys<FunctionLimits>({ rate: true, concurrency: true });
export const RATE_KEYS = knownKeys<RateLimit>({ max: true, duration: true });
export const SETTINGS_KEYS = knownKeys<SettingsChanges>({
  attempts: true,
  backoff: true,
  keep: true,
  rate: true,
  concurrency: true,
  maxQueue: true,
  paused: true,
});
