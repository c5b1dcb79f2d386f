import type { Retries } from '../retry.js';
import type { OutcomeRecord } from '../store.js';
import type { AttemptError, JobOutcome, KeepLimit, Priority, Retention } from '../types.js';
import { fromBody, toBody, type Body } from './payload.js';

/** The default: failed jobs kept (the newest 1,000, for 7 days), completed ones not. */
export const DEFAULT_RETENTION: Required<Retention> = {
  completed: { count: 0 },
  failed: { count: 1000, age: 7 * 24 * 3600_000 },
};

const NO_ERRORS: readonly AttemptError[] = [];

const STATES = ['completed', 'failed'] as const;
const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/**
 * One kept outcome, compact: a million may be kept (≤ 300 bytes each with a 16-byte result).
 * Small results are latin1 strings (as queued payloads are), the handle and names are the
 * job's own strings, a job that never failed shares one empty error list, the state,
 * priority and flags share one small integer, and the submit and start times are kept as
 * offsets from the end (small integers; a full time is a boxed number of 16 bytes more).
 */
export class KeptOutcome {
  /** state (bit 0), priority (bits 1-2), truncated (bit 3), stored (bit 4). */
  private readonly bits: number;
  private readonly queuedBefore: number;
  private readonly startedBefore: number;

  constructor(
    readonly seq: number,
    readonly handle: string,
    readonly functionName: string,
    readonly unique: string,
    priority: Priority,
    state: 'completed' | 'failed',
    readonly reason: JobOutcome['reason'],
    /** The result (completed) or the payload (failed, to run it again). */
    readonly body: Body | null,
    truncated: boolean,
    readonly attempts: number,
    readonly errors: readonly AttemptError[],
    queuedAt: number,
    startedAt: number,
    readonly endedAt: number,
    /** The job's own retry policy, for a run by hand. */
    readonly retry: Retries | null,
    /** Whether the job store keeps it too (the job was stored). */
    stored: boolean,
  ) {
    this.bits =
      (state === 'failed' ? 1 : 0) |
      (PRIORITIES.indexOf(priority) << 1) |
      (truncated ? 8 : 0) |
      (stored ? 16 : 0);
    this.queuedBefore = endedAt - queuedAt;
    this.startedBefore = endedAt - startedAt;
  }

  get state(): 'completed' | 'failed' {
    return STATES[this.bits & 1]!;
  }
  get priority(): Priority {
    return PRIORITIES[(this.bits >> 1) & 3]!;
  }
  get truncated(): boolean {
    return (this.bits & 8) !== 0;
  }
  get stored(): boolean {
    return (this.bits & 16) !== 0;
  }
  get queuedAt(): number {
    return this.endedAt - this.queuedBefore;
  }
  get startedAt(): number {
    return this.endedAt - this.startedBefore;
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
      r.priority,
      r.state,
      r.reason,
      toBody(r.data, true),
      r.truncated,
      r.attempts,
      r.errors.length === 0 ? NO_ERRORS : r.errors,
      r.queuedAt,
      r.startedAt,
      r.endedAt,
      r.retry,
      true,
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

export { NO_ERRORS };

/**
 * The kept outcomes: per function and state, oldest first (a Map keeps insertion order), so
 * that the count and the age are enforced from the front when an outcome is added and when
 * outcomes are read — no timer.
 */
export class Outcomes {
  private readonly byHandle = new Map<string, KeptOutcome>();
  private readonly lists = new Map<string, Map<string, KeptOutcome>>();
  private readonly retention = new Map<string, Retention>();

  constructor(
    private readonly defaults: Required<Retention>,
    /** An outcome stopped being kept (trimmed or removed): the store forgets it too. */
    private readonly dropped: (outcome: KeptOutcome) => void,
  ) {}

  setRetention(functionName: string, retention: Retention | null): void {
    if (retention === null) this.retention.delete(functionName);
    else this.retention.set(functionName, retention);
  }

  retentionOf(functionName: string): Retention | null {
    return this.retention.get(functionName) ?? null;
  }

  /** What is kept of a function's outcomes in `state`. */
  limit(functionName: string, state: 'completed' | 'failed'): KeepLimit {
    return this.retention.get(functionName)?.[state] ?? this.defaults[state];
  }

  /** Whether an outcome of this kind would be kept at all (count 0 keeps none). */
  keeps(functionName: string, state: 'completed' | 'failed'): boolean {
    return (this.limit(functionName, state).count ?? Infinity) > 0;
  }

  /**
   * Keeps an outcome, then trims its list by the function's retention, unless `trim` is
   * false: outcomes read back from a store at start are not trimmed then, since the
   * application may set its functions' policies only after the server is created.
   */
  add(outcome: KeptOutcome, now: number, trim = true): void {
    const key = `${outcome.state}\0${outcome.functionName}`;
    let list = this.lists.get(key);
    if (list === undefined) {
      list = new Map();
      this.lists.set(key, list);
    }
    if (this.byHandle.has(outcome.handle)) this.remove(outcome.handle);
    list.set(outcome.handle, outcome);
    this.byHandle.set(outcome.handle, outcome);
    if (trim) this.trim(list, this.limit(outcome.functionName, outcome.state), now);
  }

  get(handle: string, now: number): KeptOutcome | undefined {
    const outcome = this.byHandle.get(handle);
    if (outcome === undefined) return undefined;
    const age = this.limit(outcome.functionName, outcome.state).age;
    if (age !== undefined && outcome.endedAt + age <= now) {
      this.remove(handle);
      return undefined;
    }
    return outcome;
  }

  /** Kept outcomes, oldest first, of one function (or all) in one state (or both). */
  list(now: number, functionName?: string, state?: 'completed' | 'failed'): KeptOutcome[] {
    const found: KeptOutcome[] = [];
    for (const [key, list] of this.lists) {
      const [kind, name] = key.split('\0') as ['completed' | 'failed', string];
      if (state !== undefined && kind !== state) continue;
      if (functionName !== undefined && name !== functionName) continue;
      this.trim(list, this.limit(name, kind), now);
      found.push(...list.values());
    }
    return found.sort((a, b) => a.endedAt - b.endedAt || a.seq - b.seq);
  }

  remove(handle: string): KeptOutcome | undefined {
    const outcome = this.byHandle.get(handle);
    if (outcome === undefined) return undefined;
    this.byHandle.delete(handle);
    this.lists.get(`${outcome.state}\0${outcome.functionName}`)?.delete(handle);
    this.dropped(outcome);
    return outcome;
  }

  get size(): number {
    return this.byHandle.size;
  }

  private trim(list: Map<string, KeptOutcome>, limit: KeepLimit, now: number): void {
    const count = limit.count ?? Infinity;
    const age = limit.age;
    for (const [handle, outcome] of list) {
      const old = age !== undefined && outcome.endedAt + age <= now;
      if (!old && list.size <= count) break;
      list.delete(handle);
      this.byHandle.delete(handle);
      this.dropped(outcome);
    }
  }
}
