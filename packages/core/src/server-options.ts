import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from './errors.js';
import { checkName, checkRetention } from './internal/checks.js';
import { limitsOf, policyChanges } from './internal/settings-record.js';
import { DEFAULT_RETENTION } from './internal/outcomes.js';
import { releaseHeap } from './internal/heap.js';
import type { PartsOptions } from './internal/parts.js';
import { ServerTimers } from './internal/timers.js';
import type { JobStore } from './store.js';
import type { LoggerLike } from './worker-types.js';

// What each of the job server's options must be, and the parts' options made of them.

import type { BurstPeak, JobServerOptions } from './server-types.js';

/** What every job store has (store.ts); the rest of its methods are optional. */
const STORE_METHODS = ['add', 'update', 'remove', 'list', 'highestSeq'] as const;

function checkStore(store: JobStore): void {
  const missing = STORE_METHODS.filter(
    (name) => typeof (store as Partial<JobStore> | null)?.[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `store must be a JobStore (or null); it lacks ${missing.join(', ')}`,
    );
  }
}

/** See {@link JobServerOptions.wakeTimeout}. */
export const DEFAULT_WAKE_TIMEOUT = 100;

/**
 * Checks a job server's options and makes its parts' options of them.
 * @throws InvalidArgumentError
 */
export function partsOptions(
  options: JobServerOptions,
  scheduler: SchedulerLike,
  logger: LoggerLike | undefined,
): PartsOptions {
  const maxRetries = options.maxRetries ?? Infinity;
  if (!(maxRetries >= 0)) throw new InvalidArgumentError('maxRetries must be ≥ 0');
  if (options.keep !== undefined) checkRetention(options.keep, 'keep');
  const workerWakeup = options.workerWakeup ?? 1;
  if (!Number.isSafeInteger(workerWakeup) || workerWakeup < 0) {
    throw new InvalidArgumentError('workerWakeup must be a whole number ≥ 0');
  }
  const wakeTimeout = options.wakeTimeout ?? DEFAULT_WAKE_TIMEOUT;
  if (!(wakeTimeout > 0)) throw new InvalidArgumentError('wakeTimeout must be > 0 ms');
  const store = options.store ?? null;
  if (store !== null) checkStore(store);
  const backend = options.queue ?? null;
  if (backend !== null && store !== null) {
    throw new InvalidArgumentError('give a store or a shared queue, not both');
  }
  return {
    workerWakeup,
    wakeTimeout,
    scheduler,
    // A virtual clock jumps inside one synchronous flush, so its readings are not shared.
    realClock: scheduler === asyncScheduler || scheduler instanceof ServerTimers,
    handlePrefix: options.handlePrefix ?? `H:${hostname()}`,
    maxRetries,
    maxUniqueLength: options.maxUniqueLength ?? 64,
    maxQueue: limitsOf(options.maxQueue),
    store,
    initialSettings: new Map(
      Object.entries(options.jobPolicies ?? {}).map(([name, policy]) => {
        checkName(name, 'function name');
        return [name, policyChanges(policy, `jobPolicies.${name}`)] as const;
      }),
    ),
    random: options.random ?? Math.random,
    retention: {
      completed: options.keep?.completed ?? DEFAULT_RETENTION.completed,
      failed: options.keep?.failed ?? DEFAULT_RETENTION.failed,
    },
    outcomeDataLimit: options.outcomeDataLimit ?? 4096,
    onBurstDrained: burstDrained(options.releaseMemory ?? true, logger),
    onStoreError: (error, handle, operation) =>
      logger?.error({ err: error, record: handle }, `job store failed to ${operation} a record`),
    onTickError: (error, scheduleId, tick) =>
      logger?.error(
        { err: error, schedule: scheduleId, tick },
        `schedule ${scheduleId} could not submit its tick of ${new Date(tick).toISOString()}`,
      ),
    node: { id: randomUUID(), name: options.nodeName ?? `${hostname()}:${process.pid}` },
    shared:
      backend === null
        ? null
        : {
            backend,
            claimBatch: 32,
            pollInterval: 1000,
            progressInterval: 250,
            onStale: (report) =>
              logger?.warn?.(
                { record: report.handle, attempt: report.attempt },
                'a report for an attempt this node no longer holds was refused',
              ),
            onError: (error, operation) =>
              logger?.error({ err: error }, `shared queue failed to ${operation}`),
          },
  };
}

/** What `releaseMemory` asks for, as the queue's callback. */
function burstDrained(
  release: NonNullable<JobServerOptions['releaseMemory']>,
  logger: LoggerLike | undefined,
): ((peak: BurstPeak) => void) | null {
  if (release === false) return null;
  if (release !== true) return release;
  return (peak) => {
    logger?.info({ burst: peak }, `a burst of ${peak.jobs} jobs drained`);
    releaseHeap(logger);
  };
}
