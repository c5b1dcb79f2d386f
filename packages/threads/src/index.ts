export {
  ThreadPool,
  attachThreadPool,
  type PoolFunction,
  type PoolTarget,
  type PoolWorker,
  type ThreadEvent,
  type ThreadPoolOptions,
  type ThreadPoolStats,
} from './pool.js';
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
