import type { Retries } from '../retry.js';
import type { OutcomeRecord } from '../store.js';
import type { AttemptError, JobOutcome, Priority } from '../types.js';
import { PRIORITY_NAMES, priorityIndex, type PriorityIndex } from './job.js';
import { fromBody, toBody, type Body } from './payload.js';

export const NO_ERRORS: readonly AttemptError[] = [];

/**
 * How a background job ended, as the engine hands it to the kept outcomes and reads it back
 * from them. It is short-lived: the outcomes keep its fields in columns (outcome-ring.ts).
 * Small results and payloads are latin1 strings, as queued payloads are.
 */
export class KeptOutcome {
  constructor(
    readonly seq: number,
    readonly handle: string,
    readonly functionName: string,
    readonly unique: string,
    readonly state: 'completed' | 'failed',
    /** priority (bits 0-1), truncated (bit 2), stored (bit 3): see `bitsOf`. */
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

  /** `stored`: whether the job store keeps the outcome too (the job was stored). */
  static bitsOf(priority: PriorityIndex, truncated: boolean, stored: boolean): number {
    return priority | (truncated ? 4 : 0) | (stored ? 8 : 0);
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
    return {
      seq: this.seq,
      handle: this.handle,
      functionName: this.functionName,
      unique: this.unique,
      priority: this.priority,
      state: this.state,
      reason: this.reason,
      data: this.body === null ? Buffer.alloc(0) : fromBody(this.body),
      truncated: this.truncated,
      attempts: this.attempts,
      errors: this.errors,
      queuedAt: this.queuedAt,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      retry: this.retry,
    };
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
      r.errors.length === 0 ? NO_ERRORS : r.errors,
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
