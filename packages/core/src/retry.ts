import { InvalidArgumentError } from './errors.js';
import { checkFields } from './internal/checks.js';
import type { Retention } from './types.js';

/**
 * How long a job waits before its next attempt.
 *
 * - `fixed`: `delay` ms every time.
 * - `exponential`: `delay` ms after the first failed attempt, twice as long after each
 *   next one (`delay · 2^(n−1)` after attempt n).
 *
 * `max` caps the wait (default: no cap). `jitter` (0 to 1, default 0) takes up to that
 * fraction off each wait at random, so that jobs failing together do not retry together.
 */
export interface Backoff {
  readonly type: 'fixed' | 'exponential';
  readonly delay: number;
  readonly max?: number;
  readonly jitter?: number;
}

/**
 * How often a background or foreground job is tried, and how long it waits in between.
 * An attempt ends in failure by a WORK_FAIL, a WORK_EXCEPTION, a timeout or a lost worker.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included: 1 = never retried (the default). */
  readonly attempts: number;
  /** The wait before each retry; a number is a fixed delay in ms. Default: none. */
  readonly backoff?: Backoff | number;
}

/** A policy checked once, its back-off in one shape. */
export interface Retries {
  readonly attempts: number;
  readonly backoff: Backoff;
}

const NO_WAIT: Backoff = { type: 'fixed', delay: 0 };

/** Checks a policy given by an application; @throws InvalidArgumentError */
export function retriesOf(policy: RetryPolicy): Retries {
  const { attempts } = policy;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new InvalidArgumentError('attempts must be a whole number ≥ 1');
  }
  const given = policy.backoff;
  if (given !== undefined && typeof given !== 'number') {
    checkFields(given, 'backoff', ['type', 'delay', 'max', 'jitter']);
  }
  const backoff: Backoff =
    given === undefined
      ? NO_WAIT
      : typeof given === 'number'
        ? { type: 'fixed', delay: given }
        : given;
  if (backoff.type !== 'fixed' && backoff.type !== 'exponential') {
    throw new InvalidArgumentError("backoff.type must be 'fixed' or 'exponential'");
  }
  if (!(backoff.delay >= 0) || !Number.isFinite(backoff.delay)) {
    throw new InvalidArgumentError('backoff delay must be a number of ms ≥ 0');
  }
  if (backoff.max !== undefined && !(backoff.max >= 0)) {
    throw new InvalidArgumentError('backoff max must be a number of ms ≥ 0');
  }
  const jitter = backoff.jitter ?? 0;
  if (!(jitter >= 0 && jitter <= 1)) throw new InvalidArgumentError('backoff jitter is 0 to 1');
  return { attempts, backoff };
}

/**
 * The wait in ms before the attempt after `failed` (1 for the first attempt), with `random`
 * (0 ≤ r < 1) taking the jitter off.
 */
export function backoffDelay(backoff: Backoff, failed: number, random: () => number): number {
  const base =
    backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** Math.max(0, failed - 1);
  const capped = backoff.max === undefined ? base : Math.min(base, backoff.max);
  const jitter = backoff.jitter ?? 0;
  return Math.round(jitter === 0 ? capped : capped * (1 - jitter * random()));
}

/**
 * What the server does with the jobs of one function (`setJobPolicy`): how often they are
 * tried (`attempts`, `backoff`) and what is kept of them once they ended (`keep`).
 */
export interface JobPolicy {
  /** Attempts in all, the first included. Default 1. */
  readonly attempts?: number;
  readonly backoff?: RetryPolicy['backoff'];
  readonly keep?: Retention;
}
