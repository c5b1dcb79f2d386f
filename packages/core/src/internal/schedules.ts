import type { SchedulerLike, Subscription } from 'rxjs';
import type { ScheduleRecord } from '../store.js';
import type { SubmitOutcome, SubmitRequest } from '../transport-types.js';
import type { CatchUp, JobEvent, Priority, ScheduleInfo, ScheduleOptions } from '../types.js';
import { scheduleDefinitionOf } from './schedule-definition.js';
import { checkTiming, latestTicks, nextTick, type Timing } from './schedule-timing.js';
import { isThenable } from './thenable.js';
import { timerDelay } from './timer-delay.js';

type WithoutTime<E> = E extends unknown ? Omit<E, 'time'> : never;

/** What the schedules need of the server they submit to. */
export interface ScheduleHost {
  readonly scheduler: SchedulerLike;
  /** Submits a background job (as any client does). */
  submit(request: SubmitRequest): SubmitOutcome | Promise<SubmitOutcome>;
  /** Writes to the store the caller waits for (undefined: done, or nothing to write). */
  save(record: ScheduleRecord): Promise<void> | undefined;
  remove(id: string): Promise<void> | undefined;
  emit(event: WithoutTime<JobEvent>): void;
  /** Whether anyone listens to events (no event is built otherwise). */
  readonly observed: boolean;
  /** A tick that could not be submitted is logged here. */
  onTickError(error: unknown, scheduleId: string, tick: number): void;
  readonly maxUniqueLength: number;
}

/** Ticks missed while the server was down that `all` submits at most (the newest). */
export const MAX_CATCH_UP = 1000;
/** A tick that failed (queue full, store refused it) is tried again after this long (ms). */
export const TICK_RETRY_MS = 1000;

/**
 * One schedule: its definition, where its ticks stand, and its place in the timer's heap.
 * Ten thousand of them must fit in a few MB, so it is one object of plain fields: the
 * definition's text, not a parsed expression (see schedule-timing.ts), and a payload kept
 * as it was given (text stays text) until a record is written.
 */
class Entry implements Timing {
  /** The ticks up to this one are submitted or on their way to the store. */
  through: number;
  /** The next tick, or null when none is left. */
  next: number | null = null;
  /** Its index in the heap, or -1. */
  heapIndex = -1;

  constructor(
    readonly id: string,
    readonly cron: string | null,
    readonly every: number | null,
    readonly timezone: string | null,
    readonly functionName: string,
    readonly payload: string | Buffer,
    readonly priority: Priority,
    readonly unique: string,
    readonly catchUp: CatchUp,
    /** When it was defined: set again only by `continues`. */
    public since: number,
    /** The last tick the store has (confirmed), or null. */
    public lastTick: number | null,
  ) {
    this.through = Math.max(since, lastTick ?? -Infinity);
  }

  static of(record: ScheduleRecord): Entry {
    return new Entry(
      record.id,
      record.cron,
      record.every,
      record.timezone,
      record.functionName,
      record.payload,
      record.priority,
      record.unique,
      record.catchUp,
      record.since,
      record.lastTick,
    );
  }

  record(lastTick: number | null): ScheduleRecord {
    return {
      id: this.id,
      cron: this.cron,
      every: this.every,
      timezone: this.timezone,
      functionName: this.functionName,
      payload: typeof this.payload === 'string' ? Buffer.from(this.payload) : this.payload,
      priority: this.priority,
      unique: this.unique,
      catchUp: this.catchUp,
      since: this.since,
      lastTick,
    };
  }

  /**
   * A redefinition with the same timing goes on where `old` stands: its phase, its last
   * tick, and the last tick submitted, even if its write is still in flight (this record is
   * written after it and must not take it back: its job would be submitted again).
   */
  continues(old: Entry): void {
    this.since = old.since;
    this.lastTick = old.lastTick;
    this.through = old.through;
  }

  sameTiming(other: Entry): boolean {
    return (
      this.cron === other.cron && this.every === other.every && this.timezone === other.timezone
    );
  }
}

/**
 * Recurring jobs (decision 23). Each schedule submits one background job per tick, with
 * the unique id `<unique>:<tick>`, so that a tick's job exists once however often it is
 * submitted. The last tick submitted is written to the store in the same synchronous turn
 * as the tick's job, so that a store committing in groups commits both or neither: after a
 * crash a tick is neither submitted twice nor lost. One timer, for the earliest tick of
 * all schedules (a heap of them by next tick), as delayed jobs have; no timer per schedule.
 */
export class Schedules {
  private readonly entries = new Map<string, Entry>();
  /** Entries with a next tick, earliest first (each knows its index). */
  private readonly heap: Entry[] = [];
  private timer: Subscription | null = null;
  private timerAt = Infinity;
  private stopped = false;
  /** While due ticks are run: the timer is armed once, after them. */
  private firing = false;

  constructor(private readonly host: ScheduleHost) {}

  private now(): number {
    return this.host.scheduler.now();
  }

  /**
   * Takes up the schedules a previous run stored. Ticks missed while the server was down
   * follow each one's catch-up rule: none, the newest one (default), or all of them (the
   * newest MAX_CATCH_UP).
   */
  replay(records: Iterable<ScheduleRecord>): void {
    const now = this.now();
    this.firing = true;
    try {
      for (const record of records) {
        const entry = Entry.of(record);
        try {
          checkTiming(entry);
        } catch (error) {
          // A stored schedule this runtime cannot read (a zone it lacks): reported and
          // left in the store, not dropped.
          this.host.onTickError(error, record.id, now);
          continue;
        }
        this.entries.set(record.id, entry);
        this.run(entry, now, record.catchUp);
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  /**
   * Defines (or redefines) a schedule. A redefinition with the same timing keeps its last
   * tick (a config loaded again at every start changes nothing); a new timing starts now.
   */
  define(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    const entry = this.entryOf(id, options);
    const old = this.entries.get(id);
    if (old !== undefined && old.sameTiming(entry)) entry.continues(old);
    if (old !== undefined) this.unlink(old);
    this.entries.set(id, entry);
    this.reschedule(entry, nextTick(entry, entry.through));
    const info = this.info(entry);
    const written = this.host.save(
      entry.record(entry.through > entry.since ? entry.through : entry.lastTick),
    );
    return written === undefined ? Promise.resolve(info) : written.then(() => info);
  }

  /** Removes a schedule; resolves with whether there was one. */
  remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    this.entries.delete(id);
    this.unlink(entry);
    const written = this.host.remove(id);
    return written === undefined ? Promise.resolve(true) : written.then(() => true);
  }

  list(): ScheduleInfo[] {
    return [...this.entries.values()]
      .map((entry) => this.info(entry))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.entries.size;
  }

  /** No more ticks (the server closes). */
  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = null;
    this.timerAt = Infinity;
  }

  private info(entry: Entry): ScheduleInfo {
    return { ...entry.record(entry.lastTick), nextTick: entry.next };
  }

  private entryOf(id: string, options: ScheduleOptions): Entry {
    const d = scheduleDefinitionOf(id, options, this.host.maxUniqueLength);
    return new Entry(
      d.id,
      d.cron,
      d.every,
      d.timezone,
      d.functionName,
      d.payload,
      d.priority,
      d.unique,
      d.catchUp,
      this.now(),
      null,
    );
  }

  // ---------------------------------------------------------------------------------
  // The timer and its heap

  private reschedule(entry: Entry, next: number | null): void {
    entry.next = next;
    if (next === null) this.heapRemove(entry);
    else if (entry.heapIndex < 0) this.heapPush(entry);
    else this.heapFix(entry.heapIndex);
    this.arm();
  }

  /** Takes an entry out of the heap (removed or replaced). */
  private unlink(entry: Entry): void {
    entry.next = null;
    this.heapRemove(entry);
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.firing) return;
    const top = this.heap[0];
    if (top === undefined) {
      // No schedule left: no timer keeps the process alive for one that was removed.
      this.timer?.unsubscribe();
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    if (top.next! >= this.timerAt) return;
    this.timer?.unsubscribe();
    const now = this.now();
    const delay = timerDelay(top.next!, now);
    this.timerAt = now + delay;
    this.timer = this.host.scheduler.schedule(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.fire();
    }, delay);
  }

  private fire(): void {
    const now = this.now();
    this.firing = true;
    try {
      // Bounded: each run moves its entry past `now` (or to a retry a second later).
      for (let n = 0; n < 1_000_000; n++) {
        const top = this.heap[0];
        if (top === undefined || top.next! > now) break;
        // A timer that fires late (a busy event loop) submits the newest due tick, or all of
        // them under `all`.
        this.run(top, now, top.catchUp === 'all' ? 'all' : 'latest');
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  private before(a: Entry, b: Entry): boolean {
    return a.next! < b.next! || (a.next === b.next && a.id < b.id);
  }

  private heapPush(entry: Entry): void {
    entry.heapIndex = this.heap.length;
    this.heap.push(entry);
    this.siftUp(entry.heapIndex);
  }

  private heapRemove(entry: Entry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const last = this.heap.pop()!;
    if (last === entry) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.heapFix(i);
  }

  private heapFix(i: number): void {
    this.siftUp(i);
    this.siftDown(this.heap[i]!.heapIndex);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(i: number, j: number): void {
    const heap = this.heap;
    const a = heap[i]!;
    const b = heap[j]!;
    heap[i] = b;
    heap[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  // ---------------------------------------------------------------------------------
  // Ticks

  /** Submits the entry's due ticks (by `rule`) and schedules its next one. */
  private run(entry: Entry, now: number, rule: CatchUp): void {
    const first = nextTick(entry, entry.through);
    if (first === null || first > now) {
      this.reschedule(entry, first);
      return;
    }
    const before = entry.through;
    const due = latestTicks(entry, now, rule === 'all' ? MAX_CATCH_UP : 1).filter(
      (tick) => tick > before,
    );
    // `none` skips them; the newest due tick is where the schedule goes on from.
    entry.through = Math.max(before, due.at(-1) ?? now);
    // The next tick first: a tick that fails reschedules the entry for its retry.
    this.reschedule(entry, nextTick(entry, entry.through));
    if (rule !== 'none' && due.length > 0) this.submitTicks(entry, due, before);
  }

  /**
   * Submits one job per tick, then writes the schedule's last tick in the same turn. A
   * failure stops at that tick: it is tried again later, from the last tick the store has.
   */
  private submitTicks(entry: Entry, ticks: readonly number[], before: number): void {
    const host = this.host;
    const submitted: { tick: number; outcome: SubmitOutcome | Promise<SubmitOutcome> }[] = [];
    let failure: { tick: number; error: unknown } | null = null;
    for (const tick of ticks) {
      try {
        submitted.push({
          tick,
          outcome: host.submit({
            functionName: entry.functionName,
            payload: entry.payload,
            priority: entry.priority,
            unique: `${entry.unique}:${tick}`,
            background: true,
          }),
        });
      } catch (error) {
        failure = { tick, error };
        break;
      }
    }
    const through = submitted.length > 0 ? submitted.at(-1)!.tick : null;
    let written: Promise<void> | undefined;
    let writeError: unknown = null;
    if (through !== null) {
      try {
        written = host.save(entry.record(through));
      } catch (error) {
        writeError = error;
      }
    }
    const settle = (results: (SubmitOutcome | Error)[], saveError: unknown): void => {
      let refused: unknown = saveError;
      for (let i = 0; i < results.length; i++) {
        const result = results[i]!;
        if (result instanceof Error) {
          // In a store that commits in groups, the tick's write failed with its job.
          refused = result;
          break;
        }
        if (host.observed) {
          host.emit({
            type: 'scheduled',
            scheduleId: entry.id,
            tick: submitted[i]!.tick,
            handle: result.handle,
            coalesced: result.coalesced,
          });
        }
      }
      if (refused === null && through !== null && (entry.lastTick ?? -Infinity) < through) {
        entry.lastTick = through;
      }
      if (refused !== null) this.tickFailed(entry, through ?? 0, refused);
      if (failure !== null) this.tickFailed(entry, failure.tick, failure.error);
      if (refused !== null || failure !== null) this.retryLater(entry, before);
    };
    const outcomes = submitted.map((s) => s.outcome);
    if (written === undefined && !outcomes.some(isThenable)) {
      settle(outcomes as SubmitOutcome[], writeError);
      return;
    }
    void Promise.all([
      Promise.all(
        outcomes.map((o) =>
          Promise.resolve(o).then(
            (v) => v,
            (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
          ),
        ),
      ),
      Promise.resolve(written).then(
        () => writeError,
        (e: unknown) => e,
      ),
    ]).then(([results, saveError]) => settle(results, saveError));
  }

  private tickFailed(entry: Entry, tick: number, error: unknown): void {
    const host = this.host;
    host.onTickError(error, entry.id, tick);
    if (host.observed) {
      host.emit({
        type: 'schedule-failed',
        scheduleId: entry.id,
        tick,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  /** Goes back to the last tick the store has, and tries the missed ones again soon. */
  private retryLater(entry: Entry, before: number): void {
    if (this.entries.get(entry.id) !== entry || this.stopped) return;
    entry.through = Math.max(before, entry.lastTick ?? -Infinity);
    this.reschedule(entry, this.now() + TICK_RETRY_MS);
  }
}
