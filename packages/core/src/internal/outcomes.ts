import type { KeepLimit, Retention } from '../types.js';
import { SeqPages, slotOf } from './job-index.js';
import type { KeptOutcome, OutcomeFields } from './kept-outcome.js';
import type { Body } from './payload.js';
import { OutcomeRing } from './outcome-ring.js';
import { handleSeq } from './handles.js';

/** The default: failed jobs kept (the newest 1,000, for 7 days), completed ones not. */
export const DEFAULT_RETENTION: Required<Retention> = {
  completed: { count: 0 },
  failed: { count: 1000, age: 7 * 24 * 3600_000 },
};

/** Bits of `Outcomes.keeps`. */
export const KEEP_COMPLETED = 1;
export const KEEP_FAILED = 2;

interface IndexPage {
  readonly rings: (OutcomeRing | undefined)[];
  readonly positions: Float64Array;
  count: number;
}

/** Where each kept outcome is, by seq: its ring and its position there. */
class OutcomeIndex {
  private readonly pages = new SeqPages<IndexPage>((size) => ({
    rings: new Array<OutcomeRing | undefined>(size).fill(undefined),
    positions: new Float64Array(size),
    count: 0,
  }));
  ring(seq: number): OutcomeRing | undefined {
    return this.pages.of(seq)?.rings[slotOf(seq)];
  }

  /** The position of `seq` in its ring (only when `ring(seq)` is defined). */
  position(seq: number): number {
    return this.pages.of(seq)!.positions[slotOf(seq)]!;
  }

  /** Where an outcome `set` displaced was (see `set`). */
  displacedPosition = 0;

  /**
   * Notes where `seq` is kept now. Returns the ring of an outcome kept under the same seq
   * before, if any (its position is then in `displacedPosition`): checked here, where the
   * slot is read anyway, instead of by a lookup before every add.
   */
  set(seq: number, ring: OutcomeRing, position: number): OutcomeRing | undefined {
    const page = this.pages.for(seq);
    const slot = slotOf(seq);
    const displaced = page.rings[slot];
    if (displaced === undefined) page.count++;
    else this.displacedPosition = page.positions[slot]!;
    page.rings[slot] = ring;
    page.positions[slot] = position;
    return displaced;
  }

  delete(seq: number): void {
    const page = this.pages.of(seq);
    const slot = slotOf(seq);
    if (page === undefined || page.rings[slot] === undefined) return;
    page.rings[slot] = undefined;
    page.count--;
    this.pages.emptied(seq, page);
  }
}

/**
 * The kept outcomes: by handle, and per function and state in a ring, oldest end first, so
 * that the count and the age are enforced from the front when an outcome is added and when
 * outcomes are read — no timer.
 */
export class Outcomes {
  /**
   * By seq (the tail of the handle), made at the first use by handle (null before): a look
   * up by handle is an operator's or an API call's, while keeping the index costs every
   * kept outcome two page stores, a third of what keeping one costs. Until it is made, no
   * two outcomes share a seq: jobs get fresh seqs, a job run again by hand (its outcome's
   * seq) is found by handle first, and an add with `trim` false (outcomes read back from a
   * store, or one kept again) makes the index before it adds.
   */
  private index: OutcomeIndex | null = null;
  /** By state, then function name. */
  private readonly rings = {
    completed: new Map<string, OutcomeRing>(),
    failed: new Map<string, OutcomeRing>(),
  };
  private readonly retention = new Map<string, Retention>();

  constructor(
    private readonly defaults: Required<Retention>,
    /** The server's handle prefix: a handle made from it and the seq is not kept as a string. */
    private readonly handlePrefix: string,
    /** A stored outcome stopped being kept (trimmed or removed): the store forgets it too. */
    private readonly dropped: (seq: number, handle: string) => void,
  ) {}

  setRetention(functionName: string, retention: Retention | null): void {
    if (retention === null) this.retention.delete(functionName);
    else this.retention.set(functionName, retention);
    for (const state of ['completed', 'failed'] as const) {
      const ring = this.rings[state].get(functionName);
      if (ring !== undefined) ring.limit = this.limit(functionName, state);
    }
  }

  retentionOf(functionName: string): Retention | null {
    return this.retention.get(functionName) ?? null;
  }

  /** What is kept of a function's outcomes in `state`. */
  limit(functionName: string, state: 'completed' | 'failed'): KeepLimit {
    return this.retention.get(functionName)?.[state] ?? this.defaults[state];
  }

  /** Which outcomes of a function are kept at all (count 0 keeps none), as KEEP_ bits. */
  keeps(functionName: string): number {
    const kept = (state: 'completed' | 'failed') =>
      (this.limit(functionName, state).count ?? Infinity) > 0;
    return (kept('completed') ? KEEP_COMPLETED : 0) | (kept('failed') ? KEEP_FAILED : 0);
  }

  /**
   * Keeps an outcome (one kept under its seq before is replaced), then trims its ring by the
   * function's retention, and returns whether the outcome itself is kept — unless `trim` is
   * false: outcomes read back from a store at start are not trimmed then, since the
   * application may set its functions' policies only after the server is created.
   */
  add(outcome: OutcomeFields, body: Body | null, now: number, trim = true): boolean {
    const ring = this.ring(outcome.functionName, outcome.state);
    const count = ring.limit.count ?? Infinity;
    const age = ring.limit.age;
    let index = this.index;
    if (trim) {
      // A count or an age of 0 keeps nothing, not even for the moment of the add.
      if (count <= 0 || expired(outcome.endedAt, age, now)) {
        // Nor one kept under its seq before (kept again by hand, or read back).
        if (index?.ring(outcome.seq) !== undefined) this.drop(outcome.seq);
        return false;
      }
      // Room for this one first, so that a ring of count N never holds N + 1.
      this.trim(ring, count - 1, age, now);
    } else index = this.indexed();
    const position = ring.push(outcome, body, count);
    const displaced = index?.set(outcome.seq, ring, position);
    if (index !== null && displaced !== undefined) {
      // The outcome it replaces (the same job's) leaves its ring; the store is told first,
      // and keeps the new one when the engine writes it.
      const position = index.displacedPosition;
      if (displaced.storedAt(position)) this.dropped(outcome.seq, displaced.handleAt(position));
      displaced.remove(position);
    }
    return true;
  }

  private ring(functionName: string, state: 'completed' | 'failed'): OutcomeRing {
    const rings = this.rings[state];
    let ring = rings.get(functionName);
    if (ring === undefined) {
      ring = new OutcomeRing(
        functionName,
        state,
        this.limit(functionName, state),
        this.handlePrefix,
      );
      rings.set(functionName, ring);
    }
    return ring;
  }

  /** The outcome kept under `handle` (whose tail is its seq), with its ring, if any. */
  private find(handle: string): { ring: OutcomeRing; position: number } | undefined {
    const seq = handleSeq(handle);
    if (seq === undefined) return undefined;
    const index = this.indexed();
    const ring = index.ring(seq);
    if (ring === undefined) return undefined;
    const position = index.position(seq);
    return ring.handleAt(position) === handle ? { ring, position } : undefined;
  }

  get(handle: string, now: number): KeptOutcome | undefined {
    const found = this.find(handle);
    if (found === undefined) return undefined;
    const { ring, position } = found;
    // Outcomes end in ring order, so trimming the expired from the front reaches this one.
    this.trim(ring, ring.limit.count ?? Infinity, ring.limit.age, now);
    return ring.holds(position) ? ring.at(position) : undefined;
  }

  /** The rings of one function (or all) in one state (or both), trimmed to their limits. */
  private *selected(
    now: number,
    functionName: string | undefined,
    state: 'completed' | 'failed' | undefined,
  ): Generator<OutcomeRing> {
    for (const kind of ['completed', 'failed'] as const) {
      if (state !== undefined && kind !== state) continue;
      for (const [name, ring] of this.rings[kind]) {
        if (functionName !== undefined && name !== functionName) continue;
        this.trim(ring, ring.limit.count ?? Infinity, ring.limit.age, now);
        yield ring;
      }
    }
  }

  /**
   * Kept outcomes, oldest end first, of one function (or all) in one state (or both); with
   * a `limit`, only the newest that many. Each ring is in end order, so the newest are
   * found from the rings' tails, reading only their end times: a page showing the newest
   * hundred builds a hundred outcomes, not every one kept.
   */
  list(
    now: number,
    functionName?: string,
    state?: 'completed' | 'failed',
    limit = Infinity,
  ): KeptOutcome[] {
    const rings = this.selected(now, functionName, state);
    if (limit === Infinity) {
      const found: KeptOutcome[] = [];
      for (const ring of rings) {
        for (let p = ring.head; p < ring.tail; p++) if (ring.holds(p)) found.push(ring.at(p));
      }
      return found.sort((a, b) => a.endedAt - b.endedAt || a.seq - b.seq);
    }
    // A merge from the rings' newest ends: a cursor per ring on its newest outcome not yet
    // taken; each step takes the newest of the cursors (a scan of numbers, no allocation).
    const from = [...rings].filter((ring) => ring.size > 0);
    const cursors = from.map((ring) => previousHeld(ring, ring.tail));
    const taken: KeptOutcome[] = [];
    while (taken.length < limit) {
      let best = -1;
      for (let i = 0; i < from.length; i++) {
        const p = cursors[i]!;
        if (p < 0) continue;
        if (best < 0 || newer(from[i]!, p, from[best]!, cursors[best]!)) best = i;
      }
      if (best < 0) break;
      const ring = from[best]!;
      taken.push(ring.at(cursors[best]!));
      cursors[best] = previousHeld(ring, cursors[best]!);
    }
    return taken.reverse();
  }

  /** How many outcomes are kept, of one function (or all) in one state (or both). */
  count(now: number, functionName?: string, state?: 'completed' | 'failed'): number {
    let count = 0;
    for (const ring of this.selected(now, functionName, state)) count += ring.size;
    return count;
  }

  remove(handle: string): KeptOutcome | undefined {
    const found = this.find(handle);
    if (found === undefined) return undefined;
    const outcome = found.ring.at(found.position);
    this.drop(outcome.seq);
    return outcome;
  }

  /** The index by seq, made from the rings at its first use. */
  private indexed(): OutcomeIndex {
    if (this.index !== null) return this.index;
    const index = new OutcomeIndex();
    for (const state of ['completed', 'failed'] as const) {
      for (const ring of this.rings[state].values()) {
        for (let p = ring.head; p < ring.tail; p++) {
          if (ring.holds(p)) index.set(ring.seqOf(p), ring, p);
        }
      }
    }
    return (this.index = index);
  }

  /** Drops the outcome kept under `seq` from its ring and the index (and the store). */
  private drop(seq: number): void {
    const index = this.indexed();
    const ring = index.ring(seq)!;
    const position = index.position(seq);
    this.forget(ring, position, seq, ring.storedAt(position));
    ring.remove(position);
  }

  /**
   * Takes the outcome at `position` of `ring` (kept under `seq`) out of the index, and tells
   * the store if it keeps it too: only then is its handle made (it may not be kept as a string).
   */
  private forget(ring: OutcomeRing, position: number, seq: number, stored: boolean): void {
    this.index?.delete(seq);
    if (stored) this.dropped(seq, ring.handleAt(position));
  }

  /** Drops outcomes from the front while more than `count` or older than `age`. */
  private trim(ring: OutcomeRing, count: number, age: number | undefined, now: number): void {
    while (ring.size > 0) {
      if (ring.size <= count && !expired(ring.frontEndedAt, age, now)) break;
      this.forget(ring, ring.head, ring.frontSeq, ring.frontStored);
      ring.dropFront();
    }
  }
}

/** The position of the newest outcome `ring` holds before `position`, or -1. */
function previousHeld(ring: OutcomeRing, position: number): number {
  for (let p = position - 1; p >= ring.head; p--) if (ring.holds(p)) return p;
  return -1;
}

/** Whether the outcome at `p` of `a` ended after the one at `q` of `b` (seq breaks ties). */
function newer(a: OutcomeRing, p: number, b: OutcomeRing, q: number): boolean {
  const ea = a.endedAtOf(p);
  const eb = b.endedAtOf(q);
  return ea > eb || (ea === eb && a.seqOf(p) > b.seqOf(q));
}

/** Whether an outcome that ended at `endedAt` is past the age its function keeps them for. */
function expired(endedAt: number, age: number | undefined, now: number): boolean {
  return age !== undefined && endedAt + age <= now;
}
