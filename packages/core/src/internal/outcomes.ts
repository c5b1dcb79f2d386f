import type { Retries } from '../retry.js';
import type { OutcomeRecord } from '../store.js';
import type { AttemptError, JobOutcome, KeepLimit, Priority, Retention } from '../types.js';
import { SeqIndex } from './job-index.js';
import { fromBody, toBody, type Body } from './payload.js';
import { handleSeq } from './queries.js';

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
  /** Neighbours in its function's list of outcomes of its state, oldest first. */
  prev: KeptOutcome | null = null;
  next: KeptOutcome | null = null;
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

/** One function's outcomes of one state, oldest first, linked through the outcomes. */
class OutcomeList {
  head: KeptOutcome | null = null;
  tail: KeptOutcome | null = null;
  size = 0;

  push(o: KeptOutcome): void {
    o.prev = this.tail;
    o.next = null;
    if (this.tail === null) this.head = o;
    else this.tail.next = o;
    this.tail = o;
    this.size++;
  }

  remove(o: KeptOutcome): void {
    if (o.prev === null) this.head = o.next;
    else o.prev.next = o.next;
    if (o.next === null) this.tail = o.prev;
    else o.next.prev = o.prev;
    o.prev = o.next = null;
    this.size--;
  }
}

/**
 * The kept outcomes: by handle, and per function and state in a list, oldest first, so that
 * the count and the age are enforced from the front when an outcome is added and when
 * outcomes are read — no timer. (Not a Map used as a queue: V8 walks a Map's deleted slots
 * from its start on every iteration, and trimming from the front made each add cost
 * microseconds.)
 */
export class Outcomes {
  /** By seq (the tail of the handle): no hashing of handles on every job. */
  private readonly bySeq = new SeqIndex<KeptOutcome>();
  /** By state, then function name. */
  private readonly lists = {
    completed: new Map<string, OutcomeList>(),
    failed: new Map<string, OutcomeList>(),
  };
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

  /** Whether any outcome of the function would be kept. */
  keepsAny(functionName: string): boolean {
    return this.keeps(functionName, 'completed') || this.keeps(functionName, 'failed');
  }

  /** Whether an outcome of this kind would be kept at all (count 0 keeps none). */
  keeps(functionName: string, state: 'completed' | 'failed'): boolean {
    return (this.limit(functionName, state).count ?? Infinity) > 0;
  }

  /**
   * Keeps an outcome, then trims its list by the function's retention (returns whether the
   * outcome itself is still kept), unless `trim` is
   * false: outcomes read back from a store at start are not trimmed then, since the
   * application may set its functions' policies only after the server is created.
   */
  add(outcome: KeptOutcome, now: number, trim = true): boolean {
    const lists = this.lists[outcome.state];
    let list = lists.get(outcome.functionName);
    if (list === undefined) {
      list = new OutcomeList();
      lists.set(outcome.functionName, list);
    }
    if (this.bySeq.get(outcome.seq) !== undefined) this.remove(outcome.handle);
    list.push(outcome);
    this.bySeq.set(outcome);
    if (trim) this.trim(list, this.limit(outcome.functionName, outcome.state), now);
    // Whether it is still kept: an age of 0 trims it at once.
    return this.bySeq.get(outcome.seq) === outcome;
  }

  /** The outcome kept under `handle` (whose tail is its seq), if any. */
  private find(handle: string): KeptOutcome | undefined {
    const seq = handleSeq(handle);
    const outcome = seq === undefined ? undefined : this.bySeq.get(seq);
    return outcome !== undefined && outcome.handle === handle ? outcome : undefined;
  }

  get(handle: string, now: number): KeptOutcome | undefined {
    const outcome = this.find(handle);
    if (outcome === undefined) return undefined;
    const age = this.limit(outcome.functionName, outcome.state).age;
    if (expired(outcome, age, now)) {
      this.remove(handle);
      return undefined;
    }
    return outcome;
  }

  /** Kept outcomes, oldest end first, of one function (or all) in one state (or both). */
  list(now: number, functionName?: string, state?: 'completed' | 'failed'): KeptOutcome[] {
    const found: KeptOutcome[] = [];
    for (const kind of ['completed', 'failed'] as const) {
      if (state !== undefined && kind !== state) continue;
      for (const [name, list] of this.lists[kind]) {
        if (functionName !== undefined && name !== functionName) continue;
        this.trim(list, this.limit(name, kind), now);
        for (let o = list.head; o !== null; o = o.next) found.push(o);
      }
    }
    return found.sort((a, b) => a.endedAt - b.endedAt || a.seq - b.seq);
  }

  remove(handle: string): KeptOutcome | undefined {
    const outcome = this.find(handle);
    if (outcome === undefined) return undefined;
    this.bySeq.delete(outcome);
    this.lists[outcome.state].get(outcome.functionName)?.remove(outcome);
    this.dropped(outcome);
    return outcome;
  }

  get size(): number {
    return this.bySeq.size;
  }

  private trim(list: OutcomeList, limit: KeepLimit, now: number): void {
    const count = limit.count ?? Infinity;
    const age = limit.age;
    for (let o = list.head; o !== null; o = list.head) {
      const old = expired(o, age, now);
      if (!old && list.size <= count) break;
      list.remove(o);
      this.bySeq.delete(o);
      this.dropped(o);
    }
  }
}

/** Whether an outcome is past the age its function keeps outcomes for. */
function expired(outcome: KeptOutcome, age: number | undefined, now: number): boolean {
  return age !== undefined && outcome.endedAt + age <= now;
}
