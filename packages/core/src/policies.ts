import { Subscription, filter } from 'rxjs';
import type {
  LoggerLike,
  WorkerEvent,
  WorkerLike,
  WorkerOptions,
  WorkerPolicy,
} from './worker-types.js';

/** Closes the worker once it has finished `count` jobs. */
export function maxJobs(count: number): WorkerPolicy {
  return (worker) =>
    worker.events$
      .pipe(filter((e) => e.type === 'afterExecute' && e.jobsDone >= count))
      .subscribe(() => void worker.close({ reason: 'maxJobs' }));
}

/** Closes the worker `ms` after its run started (running jobs finish first). */
export function maxRunTime(ms: number): WorkerPolicy {
  return (worker) => {
    const subscription = new Subscription();
    subscription.add(
      worker.events$.pipe(filter((e) => e.type === 'beforeRun')).subscribe(() => {
        subscription.add(
          worker.scheduler.schedule(() => void worker.close({ reason: 'maxRunTime' }), ms),
        );
      }),
    );
    return subscription;
  };
}

/**
 * Closes the worker when `measure()` (default: the process's resident set size) exceeds
 * `bytes`, checked after each job and whenever the worker finds no work.
 */
export function memoryLimit(
  bytes: number,
  measure: () => number = () => process.memoryUsage.rss(),
): WorkerPolicy {
  return (worker) =>
    worker.events$
      .pipe(filter((e) => (e.type === 'afterExecute' || e.type === 'idle') && measure() > bytes))
      .subscribe(() => void worker.close({ reason: 'memoryLimit' }));
}

function describe(
  event: WorkerEvent,
): [level: 'debug' | 'info' | 'warn' | 'error', object, string] {
  switch (event.type) {
    case 'failure':
      return ['error', { job: event.job, err: event.error }, 'job failed'];
    case 'afterExecute':
      return [
        'info',
        { job: event.job, outcome: event.outcome, duration: event.duration },
        'job finished',
      ];
    case 'afterRun':
      return ['info', { reason: event.reason, jobsDone: event.jobsDone }, 'worker stopped'];
    case 'beforeRun':
      return ['info', {}, 'worker starting'];
    case 'afterRegister':
      return ['info', { functions: event.functions }, 'functions registered'];
    default:
      return ['debug', event, event.type];
  }
}

/** Logs every lifecycle event: failures as errors, jobs and run start/stop as info, the rest as debug. */
export function logging(logger: LoggerLike): WorkerPolicy {
  return (worker) =>
    worker.events$.subscribe((event) => {
      const [level, object, message] = describe(event);
      if (level === 'debug') logger.debug?.(object, message);
      else logger[level](object, message);
    });
}

/** Applies the policies a worker's options ask for. */
export function applyPolicies(worker: WorkerLike, options: WorkerOptions): Subscription {
  const subscription = new Subscription();
  const policies: WorkerPolicy[] = [];
  if (options.logger !== undefined) policies.push(logging(options.logger));
  if (options.maxJobs !== undefined) policies.push(maxJobs(options.maxJobs));
  if (options.maxRunTime !== undefined) policies.push(maxRunTime(options.maxRunTime));
  if (options.memoryLimit !== undefined) {
    policies.push(memoryLimit(options.memoryLimit, options.measureMemory));
  }
  policies.push(...(options.policies ?? []));
  for (const policy of policies) subscription.add(policy(worker));
  return subscription;
}
