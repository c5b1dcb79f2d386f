// @geartrain/dashboard: Prometheus metrics of a job server (the live page is to come).
export {
  JobServerMetrics,
  OTHER_FUNCTIONS,
  createMetrics,
  type MetricsOptions,
} from './metrics.js';
