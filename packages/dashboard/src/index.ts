// @geartrain/dashboard: Prometheus metrics and a live page for a job server, as a Node
// request handler or on a port of their own.
export {
  createDashboardHandler,
  serveDashboard,
  type DashboardHandler,
  type DashboardOptions,
  type ServeDashboardOptions,
  type ServedDashboard,
} from './handler.js';
export {
  JobServerMetrics,
  OTHER_FUNCTIONS,
  createMetrics,
  type MetricsOptions,
} from './metrics.js';
export {
  takeSnapshot,
  type DashboardSnapshot,
  type DelayedRow,
  type FailedRow,
  type FunctionRow,
  type NodeRow,
  type RunningRow,
  type ScheduleRow,
  type SnapshotLimits,
  type WorkerRow,
} from './snapshot.js';
export {
  checkActionRequest,
  parseAction,
  performAction,
  MAX_ACTION_BYTES,
  type ActionError,
  type ActionReply,
  type DashboardAction,
} from './actions.js';
export { HISTORY, type IntervalLatency, type LiveUpdate, type RatePoint } from './live.js';
export { searchJob, type FoundJob, type FoundOutcome, type SearchResult } from './search.js';
