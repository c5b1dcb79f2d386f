import {
  backoffDelay,
  type AttemptError,
  type AttemptFailure,
  type FailReason,
} from '@geartrain/core';
import type { Retries } from '@geartrain/core';
import type { AttemptEnd, ReportOutcome, ThrownError } from '@geartrain/core/transport';
import { storedError, type StoredError } from './rows.js';

/** What this node knows of a job it claimed, for the end of its attempt. */
export interface Held {
  readonly id: string;
  readonly functionName: string;
  /** This claim's attempt: the fence of every write for it. */
  readonly attempt: number;
  /** The job's own retry policy, else its function's (as it was at the claim), or null. */
  readonly retries: Retries | null;
  readonly keepsCompleted: boolean;
  readonly keepsFailed: boolean;
  /** The function has a concurrency or rate limit: an end frees a place for any node. */
  readonly limited: boolean;
  /** Nodes waited for its updates at the claim: its end is written for them. */
  readonly watched: boolean;
}

/**
 * What the report statement does with one attempt's end: `q` back in the queue (after
 * `delay` ms), `u` given back unstarted, `a` given back unstarted and unwatched by this node
 * (then dropped if it is a foreground job nobody else waits for: `dropUnwatchedStatement`),
 * `c` completed, `f` failed for good.
 */
export interface Fate {
  readonly act: 'q' | 'u' | 'a' | 'c' | 'f';
  readonly delay: number;
  readonly error: StoredError | null;
  readonly reason: FailReason | null;
  readonly result: Buffer | null;
  readonly truncated: boolean;
  readonly keep: boolean;
  /** What the node is told when the write matched. */
  readonly outcome: ReportOutcome;
  /** Whether the job may run again now (its function is to be woken). */
  readonly requeued: boolean;
}

export interface FateOptions {
  readonly maxRetries: number;
  readonly outcomeDataLimit: number;
  readonly random: () => number;
  readonly now: () => number;
}

const COMPLETED: ReportOutcome = { state: 'completed' };

const FAILURES: Record<'fail' | 'exception' | 'timeout' | 'lost', AttemptFailure> = {
  fail: 'WORK_FAIL',
  exception: 'EXCEPTION',
  timeout: 'TIMEOUT',
  lost: 'WORKER_LOST',
};

/** An attempt's error as a kept outcome lists it (core's attempt-error.ts, on its caps). */
function attemptError(
  attempt: number,
  reason: AttemptFailure,
  data: Buffer | null,
  thrown: ThrownError | null,
  time: number,
  limit: number,
): AttemptError {
  const bytes = data === null ? null : Buffer.from(data.subarray(0, limit));
  let message = bytes === null ? null : bytes.toString('utf8');
  if (message === null && thrown !== null) message = thrown.message.slice(0, limit);
  return {
    attempt,
    reason,
    message,
    data: bytes,
    name: thrown?.name ?? null,
    stack: thrown?.stack.slice(0, limit) ?? null,
    time,
  };
}

/**
 * How an attempt's end changes its job, by the job's retry policy, as the local queue's
 * endings do it (core's endings.ts): a failure with attempts left is retried after its
 * back-off (jitter included); a lost worker counts an attempt (with no policy, the job goes
 * back until `maxRetries`, then fails `RETRIES_EXHAUSTED`); the last failure ends the job,
 * kept as a dead letter when its function keeps failed jobs.
 */
export function fateOf(held: Held, end: AttemptEnd, options: FateOptions): Fate {
  const attempt = held.attempt;
  if (end.kind === 'complete') {
    const limit = options.outcomeDataLimit;
    const keep = held.keepsCompleted;
    // Each fate written out whole: a spread of common fields that the literal then
    // overrides (`{ ...base, result }`) cost 4.5 µs a completion on Node 20's V8.
    return {
      act: 'c',
      delay: 0,
      error: null,
      reason: null,
      result: keep ? Buffer.from(end.data.subarray(0, limit)) : null,
      truncated: keep && end.data.length > limit,
      keep,
      outcome: COMPLETED,
      requeued: false,
    };
  }
  if (end.kind === 'unclaimed' || end.kind === 'abandoned') {
    return {
      act: end.kind === 'unclaimed' ? 'u' : 'a',
      delay: 0,
      error: null,
      reason: null,
      result: null,
      truncated: false,
      keep: false,
      outcome: { state: 'queued', attempt },
      requeued: true,
    };
  }
  const failure = FAILURES[end.kind];
  const error = attemptError(
    attempt,
    failure,
    end.kind === 'exception' ? end.data : null,
    end.kind === 'fail' || end.kind === 'exception' ? end.thrown : null,
    options.now(),
    options.outcomeDataLimit,
  );
  const policy = held.retries;
  if (policy !== null && attempt < policy.attempts) {
    const delay = backoffDelay(policy.backoff, attempt, options.random);
    return {
      act: 'q',
      delay,
      error: storedError(error),
      reason: null,
      result: null,
      truncated: false,
      keep: false,
      outcome: { state: 'retrying', attempt, reason: failure, delay },
      requeued: true,
    };
  }
  if (end.kind === 'lost' && policy === null && attempt <= options.maxRetries) {
    // A lost worker without a policy: back in the queue, as gearmand does, nothing noted.
    return {
      act: 'q',
      delay: 0,
      error: null,
      reason: null,
      result: null,
      truncated: false,
      keep: false,
      outcome: { state: 'queued', attempt: attempt + 1 },
      requeued: true,
    };
  }
  const reason: FailReason =
    end.kind === 'lost'
      ? 'RETRIES_EXHAUSTED'
      : end.kind === 'fail'
        ? 'WORK_FAIL'
        : end.kind === 'exception'
          ? 'EXCEPTION'
          : 'TIMEOUT';
  return {
    act: 'f',
    delay: 0,
    error: storedError(error),
    reason,
    result: null,
    truncated: false,
    keep: held.keepsFailed,
    outcome: { state: 'failed', reason },
    requeued: false,
  };
}
