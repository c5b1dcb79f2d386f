import { knownKeys } from '@geartrain/core/transport';
import type { PoolCloseOptions, PoolFunction, ThreadPoolOptions } from './pool-types.js';

// The keys the pool's options accept (decision 31: a key not listed is refused), held to
// their types by `knownKeys`.

export const POOL_KEYS = knownKeys<ThreadPoolOptions>({
  functions: true,
  threads: true,
  concurrencyPerThread: true,
  timeout: true,
  terminateGrace: true,
  maxJobsPerThread: true,
  maxThreadAge: true,
  maxHeapBytes: true,
  resourceLimits: true,
  restartDelay: true,
  maxRestartDelay: true,
  workerData: true,
  scheduler: true,
  threadEntry: true,
});

export const FUNCTION_KEYS = knownKeys<PoolFunction>({ module: true, export: true, timeout: true });

export const POOL_CLOSE_KEYS = knownKeys<PoolCloseOptions>({ timeout: true });
