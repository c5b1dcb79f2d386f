export { ThreadPool, attachThreadPool } from './pool.js';
export type {
  PoolFunction,
  PoolTarget,
  PoolWorker,
  ThreadEvent,
  ThreadPoolOptions,
  ThreadPoolStats,
} from './pool-types.js';
export {
  copyOf,
  movable,
  type FromThread,
  type HandlerSpec,
  type JobMessage,
  type Outcome,
  type ThreadData,
  type ToThread,
  type Update,
} from './messages.js';
