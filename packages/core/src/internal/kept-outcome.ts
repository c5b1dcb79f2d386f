import type { Retries } from '../retry.js';
import type { OutcomeRecord } from '../store.js';
import type { AttemptError, JobOutcome, Priority } from '../types.js';
import { PRIORITY_NAMES, priorityIndex, type PriorityIndex } from './job.js';
import { fromBody, toBody, type Body } from './payload.js';
import { storedAttemptError } from './attempt-error.js';

export const NO_ERRORS: readonly AttemptError[] = [];

/** The bit of `OutcomeFields.bits` that says the handle is `<prefix>:<seq>` (`bitsOf`). */
export const MADE_HANDLE = 16;

/**
 * What the kept outcomes copy of how a background job ended (see outcome-ring.ts), but its
 * result or payload, which is passed beside it: the engine's draft lives long, and a fresh
 * Buffer stored in it would be an old-to-young pointer for the collector on every job.
 */
export interface OutcomeFields {
  readonly seq: number;
  /**
   * In the engine's draft, '' when `bits` has MADE_HANDLE and the job was not stored: the
   * outcomes make such a handle from the seq when it is read, and nothing else reads it.
   */
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly state: 'completed' | 'failed';
  /** priority (bits 0-1), truncated (bit 2), stored (bit 3), made handle (bit 4): `bitsOf`. */
  readonly bits: number;
  readonly reason: JobOutcome['reason'];
  readonly attempts: number;
  readonly errors: readonly AttemptError[];
  readonly queuedAt: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The job's own retry policy, for a run by hand. */
  readonly retry: Retries | null;
}

/**
 * The engine's one draft of the outcome of the job ending now, filled in place for every
 * job and copied by the outcomes at once: no object per ended job.
 */
export class OutcomeDraft implements OutcomeFields {
  seq = 0;
  handle = '';
  functionName = '';
  unique = '';
  state: 'completed' | 'failed' = 'completed';
  bits = 0;
  reason: JobOutcome['reason'] = null;
  attempts = 0;
  errors: readonly AttemptError[] = NO_ERRORS;
  queuedAt = 0;
  startedAt = 0;
  endedAt = 0;
  retry: Retries | null = null;
}

/** An outcome as a store keeps it; `body` is its result or payload. */
export function recordOf(o: OutcomeFields, body: Body | null): OutcomeRecord {
  return {
    seq: o.seq,
    handle: o.handle,
    functionName: o.functionName,
    unique: o.unique,
    priority: PRIORITY_NAMES[o.bits & 3]!,
    state: o.state,
    reason: o.reason,
    data: body === null ? Buffer.alloc(0) : fromBody(body),
    truncated: (o.bits & 4) !== 0,
    attempts: o.attempts,
    errors: o.errors,
    queuedAt: o.queuedAt,
    startedAt: o.startedAt,
    endedAt: o.endedAt,
    retry: o.retry,
  };
}

/**
 * A kept outcome read back from the outcomes (their rings keep no objects). Small results
 * and payloads are latin1 strings, as queued payloads are.
 */
export class KeptOutcome implements OutcomeFields {
  constructor(
    readonly seq: number,
    readonly handle: string,
    readonly functionName: string,
    readonly unique: string,
    readonly state: 'completed' | 'failed',
    /** priority (bits 0-1), truncated (bit 2), stored (bit 3), made handle (bit 4): `bitsOf`. */
    readonly bits: number,
    readonly reason: JobOutcome['reason'],
    /** The result (completed) or the payload (failed, to run it again). */
    readonly body: Body | null,
    readonly attempts: number,
    readonly errors: readonly AttemptError[],
    readonly queuedAt: number,
    readonly startedAt: number,
    readonly endedAt: number,
    /** The job's own retry policy, for a run by hand. */
    readonly retry: Retries | null,
  ) {}

  /**
   * `stored`: whether the job store keeps the outcome too (the job was stored).
   * `madeHandle`: whether the handle is `<prefix>:<seq>` with this server's prefix, so that
   * the outcomes need not keep the string (see outcome-ring.ts).
   */
  static bitsOf(
    priority: PriorityIndex,
    truncated: boolean,
    stored: boolean,
    madeHandle = false,
  ): number {
    return priority | (truncated ? 4 : 0) | (stored ? 8 : 0) | (madeHandle ? MADE_HANDLE : 0);
  }

  get priority(): Priority {
    return PRIORITY_NAMES[this.bits & 3]!;
  }
  get truncated(): boolean {
    return (this.bits & 4) !== 0;
  }
  get stored(): boolean {
    return KeptOutcome.isStored(this.bits);
  }

  static isStored(bits: number): boolean {
    return (bits & 8) !== 0;
  }

  /** The outcome as a store keeps it. */
  record(): OutcomeRecord {
    return recordOf(this, this.body);
  }

  /** An outcome a store kept, back in memory after a restart. */
  static fromRecord(r: OutcomeRecord): KeptOutcome {
    return new KeptOutcome(
      r.seq,
      r.handle,
      r.functionName,
      r.unique,
      r.state,
      KeptOutcome.bitsOf(priorityIndex(r.priority), r.truncated, true),
      r.reason,
      toBody(r.data, true),
      r.attempts,
      r.errors.length === 0 ? NO_ERRORS : r.errors.map(storedAttemptError),
      r.queuedAt,
      r.startedAt,
      r.endedAt,
      r.retry,
    );
  }

  /** The outcome as the API shows it. */
  view(): JobOutcome {
    const data = this.body === null ? null : fromBody(this.body);
    const completed = this.state === 'completed';
    return {
      handle: this.handle,
      functionName: this.functionName,
      unique: this.unique,
      priority: this.priority,
      state: this.state,
      reason: this.reason,
      result: completed ? data : null,
      truncated: this.truncated,
      payload: completed || data === null ? Buffer.alloc(0) : data,
      attempts: this.attempts,
      errors: this.errors.length === 0 ? NO_ERRORS : [...this.errors],
      queuedAt: this.queuedAt,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
    };
  }
}
