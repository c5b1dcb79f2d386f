// @geartrain/core/transport: what adapters build on (the TCP server, the TCP client and
// worker, the thread pool, test doubles, job stores). Applications never need it; they use
// the package's main entry (decision 19).
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
export { ClientBase, resolveRunAt, type SubmitTarget } from './client.js';
export { WorkerBase, encodeResult, type Registration } from './worker.js';
export type { WorkAssignment, WorkReport } from './worker-types.js';
export { applyPolicies } from './policies.js';
export { deliver } from './internal/deliver.js';
export { toBuffer } from './internal/payload.js';
export {
  checkJobServer,
  checkName,
  checkOptions,
  knownKeys,
  refusal,
  type KnownKeys,
} from './internal/checks.js';
export { untilDeadline } from './internal/deadline.js';
/** A settings record as the changes that put exactly it in force (for queue backends). */
export { changesOf as settingsChangesOf } from './internal/settings-record.js';
// A schedule's one rule (its definition's checks, its ticks), for a shared queue's backend.
export { scheduleDefinitionOf, type ScheduleDefinition } from './internal/schedule-definition.js';
export { latestTicks, nextTick, type Timing } from './internal/schedule-timing.js';
export type {
  AttemptEnd,
  AttemptReport,
  BackendSignals,
  ClaimedJob,
  NodeIdentity,
  ProgressReport,
  RelayedUpdate,
  QueueBackend,
  ReportOutcome,
  SharedSubmission,
  SubmitAnswer,
  ThrownError,
} from './queue-backend.js';
