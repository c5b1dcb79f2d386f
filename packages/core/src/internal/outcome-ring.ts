import type { Retries } from '../retry.js';
import type { AttemptError, JobOutcome, KeepLimit } from '../types.js';
import { KeptOutcome, MADE_HANDLE, NO_ERRORS, type OutcomeFields } from './kept-outcome.js';
import { makeHandle } from './handles.js';
import { toBody, type Body } from './payload.js';

/**
 * Each outcome's numbers and small result are one 64-byte record (one cache line):
 * seq, queued, started and ended as doubles (bytes 0-31), attempts (32-35), bits (36),
 * the result's length (37), and results of at most INLINE bytes (40-63).
 */
const RECORD = 64;
const F64 = RECORD / 8;
const ATTEMPTS = 32 / 4;
const BITS = 36;
const LENGTH = 37;
const DATA = 40;
const INLINE = RECORD - DATA;
/** `LENGTH` value of a body kept among the references (a larger one, or a string). */
const IN_REFS = 255;
/** `BITS` flag of a slot that holds an outcome (a hole or a dropped one has it clear). */
const LIVE = 0x80;

/**
 * Its references, interleaved the same way (one run of four per outcome): the handle unless
 * it is `<prefix>:<seq>` (MADE_HANDLE: made again when read), the unique id, the body unless
 * it is in the record, and what only failures and retried jobs have (reason, errors, retry
 * policy), else null. A kept handle string would be young when kept and live for thousands
 * of jobs: copied by the scavenger, then promoted, on every job.
 */
const REFS = 4;

interface Rare {
  readonly reason: JobOutcome['reason'];
  readonly errors: readonly AttemptError[];
  readonly retry: Retries | null;
}

/**
 * One function's kept outcomes of one state, oldest end first, in a ring of records: no
 * object per outcome. Outcomes live for thousands of jobs, so an object each survived the
 * young generation to be copied and promoted. A field per array (struct of arrays) was
 * tried and was slower still: adding and trimming touch every field of one outcome, which
 * then sat in a dozen cache lines; a record keeps them in two.
 *
 * Outcomes are addressed by position: a count that only grows (`head` ≤ position <
 * `tail`), whose slot is position % capacity, so positions stay valid when the ring grows.
 * The slots of both ends are kept as they move, so adding and trimming divide nothing. An
 * outcome removed from the middle (discarded, run again by hand) leaves a hole, skipped
 * when the front reaches it. The references of a dropped outcome stay until its slot is
 * used again (a slot is not cleared on every trim); an emptied ring lets go of all of them.
 */
export class OutcomeRing {
  /** Position of the oldest slot (a hole or an outcome), and one past the newest. */
  head = 0;
  tail = 0;
  /** Outcomes held (holes not counted). */
  size = 0;
  private headSlot = 0;
  private tailSlot = 0;
  private capacity = 0;
  private bytes = new Uint8Array(0);
  private f64 = new Float64Array(0);
  private u32 = new Uint32Array(0);
  private refs: unknown[] = [];

  constructor(
    readonly functionName: string,
    readonly state: 'completed' | 'failed',
    /** What the function's retention keeps of this state (updated when it changes). */
    public limit: KeepLimit,
    /** The server's handle prefix, for handles not kept as strings (MADE_HANDLE). */
    private readonly handlePrefix: string,
  ) {}

  /**
   * Appends an outcome; returns its position. `room` is the count the ring may grow to. A
   * Buffer body is copied (the caller's bytes are not kept); a string one is shared.
   */
  push(o: OutcomeFields, body: Body | null, room: number): number {
    if (this.tail - this.head === this.capacity) this.grow(room);
    const slot = this.tailSlot;
    this.tailSlot = slot + 1 === this.capacity ? 0 : slot + 1;
    const at = slot * RECORD;
    const f = slot * F64;
    this.f64[f] = o.seq;
    this.f64[f + 1] = o.queuedAt;
    this.f64[f + 2] = o.startedAt;
    this.f64[f + 3] = o.endedAt;
    this.u32[slot * (RECORD / 4) + ATTEMPTS] = o.attempts;
    this.bytes[at + BITS] = o.bits | LIVE;
    const r = slot * REFS;
    if (body !== null && typeof body !== 'string' && body.length <= INLINE) {
      this.bytes.set(body, at + DATA);
      this.bytes[at + LENGTH] = body.length;
      this.refs[r + 2] = null;
    } else {
      this.bytes[at + LENGTH] = IN_REFS;
      this.refs[r + 2] = body === null || typeof body === 'string' ? body : toBody(body, true);
    }
    this.refs[r] = (o.bits & MADE_HANDLE) !== 0 ? null : o.handle;
    this.refs[r + 1] = o.unique;
    this.refs[r + 3] =
      o.reason === null && o.errors.length === 0 && o.retry === null
        ? null
        : ({ reason: o.reason, errors: o.errors, retry: o.retry } satisfies Rare);
    this.size++;
    return this.tail++;
  }

  /** Whether `position` holds an outcome (not a hole, not gone). */
  holds(position: number): boolean {
    return (
      position >= this.head &&
      position < this.tail &&
      (this.bytes[(position % this.capacity) * RECORD + BITS]! & LIVE) !== 0
    );
  }

  /** When the outcome at `position` ended (read without building it). */
  endedAtOf(position: number): number {
    return this.f64[(position % this.capacity) * F64 + 3]!;
  }

  seqOf(position: number): number {
    return this.f64[(position % this.capacity) * F64]!;
  }

  handleAt(position: number): string {
    return this.handleOf(position % this.capacity);
  }

  private handleOf(slot: number): string {
    const kept = this.refs[slot * REFS] as string | null;
    return kept ?? makeHandle(this.handlePrefix, this.f64[slot * F64]!);
  }

  /** Whether the job store keeps the outcome at `position` too. */
  storedAt(position: number): boolean {
    return KeptOutcome.isStored(this.bytes[(position % this.capacity) * RECORD + BITS]!);
  }

  /** The outcome at `position`, as an object (for a read; the ring keeps its record). */
  at(position: number): KeptOutcome {
    const slot = position % this.capacity;
    const at = slot * RECORD;
    const f = slot * F64;
    const r = slot * REFS;
    const length = this.bytes[at + LENGTH]!;
    const rare = this.refs[r + 3] as Rare | null;
    return new KeptOutcome(
      this.f64[f]!,
      this.handleOf(slot),
      this.functionName,
      this.refs[r + 1] as string,
      this.state,
      this.bytes[at + BITS]! & ~LIVE,
      rare?.reason ?? null,
      length === IN_REFS
        ? (this.refs[r + 2] as Body | null)
        : Buffer.from(this.bytes.subarray(at + DATA, at + DATA + length)),
      this.u32[slot * (RECORD / 4) + ATTEMPTS]!,
      rare?.errors ?? NO_ERRORS,
      this.f64[f + 1]!,
      this.f64[f + 2]!,
      this.f64[f + 3]!,
      rare?.retry ?? null,
    );
  }

  // The oldest outcome (only while `size` > 0: the front is then never a hole).
  get frontSeq(): number {
    return this.f64[this.headSlot * F64]!;
  }
  get frontEndedAt(): number {
    return this.f64[this.headSlot * F64 + 3]!;
  }
  get frontStored(): boolean {
    return KeptOutcome.isStored(this.bytes[this.headSlot * RECORD + BITS]!);
  }

  /** Drops the oldest outcome. */
  dropFront(): void {
    this.clear(this.headSlot);
  }

  /** Drops the outcome at `position`, leaving a hole if it is not the oldest. */
  remove(position: number): void {
    this.clear(position % this.capacity);
  }

  private clear(slot: number): void {
    this.bytes[slot * RECORD + BITS] = 0;
    this.size--;
    if (this.size === 0) {
      this.head = this.tail;
      this.headSlot = this.tailSlot;
      // Nothing left: a large ring gives its memory back (a small one is kept, so that a
      // ring of one outcome does not remake its arrays on every job).
      if (this.capacity > 64) {
        this.headSlot = this.tailSlot = this.capacity = 0;
        this.bytes = new Uint8Array(0);
        this.f64 = new Float64Array(0);
        this.u32 = new Uint32Array(0);
        this.refs = [];
      }
      return;
    }
    while (this.head < this.tail && (this.bytes[this.headSlot * RECORD + BITS]! & LIVE) === 0) {
      this.head++;
      this.headSlot = this.headSlot + 1 === this.capacity ? 0 : this.headSlot + 1;
    }
  }

  /**
   * Doubles the capacity, keeping positions; the last doubling below `room` stops at it (a
   * ring of 10,000 is not given 16,384 slots). Past `room` (outcomes read back from a store
   * before their retention applies) it doubles on.
   */
  private grow(room: number): void {
    const used = this.tail - this.head;
    let capacity = Math.max(8, this.capacity * 2);
    if (capacity > room && room > used) capacity = room;
    const bytes = new Uint8Array(capacity * RECORD);
    const refs = new Array<unknown>(capacity * REFS).fill(null);
    // In runs that wrap around neither ring (three at most).
    for (let p = this.head; p < this.tail;) {
      const from = p % this.capacity;
      const to = p % capacity;
      const n = Math.min(this.tail - p, this.capacity - from, capacity - to);
      bytes.set(this.bytes.subarray(from * RECORD, (from + n) * RECORD), to * RECORD);
      for (let i = 0; i < n * REFS; i++) refs[to * REFS + i] = this.refs[from * REFS + i];
      p += n;
    }
    this.bytes = bytes;
    this.f64 = new Float64Array(bytes.buffer);
    this.u32 = new Uint32Array(bytes.buffer);
    this.refs = refs;
    this.capacity = capacity;
    this.headSlot = this.head % capacity;
    this.tailSlot = this.tail % capacity;
  }
}
