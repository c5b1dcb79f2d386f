import type { SchedulerLike, Subscription } from 'rxjs';
import { InvalidArgumentError, UniqueTooLargeError } from '../errors.js';
import type { ScheduleRecord } from '../store.js';
import type { SubmitOutcome, SubmitRequest } from '../transport-types.js';
import type { CatchUp, JobEvent, Priority, ScheduleInfo, ScheduleOptions } from '../types.js';
import { checkName } from './checks.js';
import { MAX_TIMER_DELAY, MinHeap } from './min-heap.js';
import { releaseTiming, timingOf, type Timing } from './schedule-timing.js';
import { isThenable } from './thenable.js';

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
/** The widest a tick's time is in the unique id (ms since 1970, up to the year 2286). */
const TICK_DIGITS = 13;

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const CATCH_UPS: readonly CatchUp[] = ['none', 'latest', 'all'];

class Entry {
  /** The ticks up to this one are submitted or on their way to the store. */
  through: number;
  /** The next tick, or null when none is left. */
  next: number | null = null;
  /** Bumped whenever `next` changes: a heap node of an older version is stale. */
  version = 0;

  constructor(
    public record: ScheduleRecord,
    public timing: Timing,
  ) {
    this.through = Math.max(record.since, record.lastTick ?? -Infinity);
  }
}

interface Node {
  readonly entry: Entry;
  readonly at: number;
  readonly version: number;
}

/**
 * Recurring jobs (decision 23). Each schedule submits one background job per tick, with
 * the unique id `<unique>:<tick>`, so that a tick's job exists once however often it is
 * submitted. The last tick submitted is written to the store in the same synchronous turn
 * as the tick's job, so that a store committing in groups commits both or neither: after a
 * crash a tick is neither submitted twice nor lost. One timer, for the earliest tick of
 * all schedules, as delayed jobs have; no timer per schedule.
 */
export class Schedules {
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new MinHeap<Node>(
    (a, b) => a.at < b.at || (a.at === b.at && a.entry.record.id < b.entry.record.id),
  );
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
    for (const record of records) {
      let timing: Timing;
      try {
        timing = timingOf(record.cron, record.every, record.timezone, record.since);
      } catch (error) {
        // A stored schedule this release cannot read (a zone the runtime lacks): reported
        // and kept in the store, not dropped.
        this.host.onTickError(error, record.id, now);
        continue;
      }
      const entry = new Entry(record, timing);
      this.entries.set(record.id, entry);
      this.run(entry, now, record.catchUp);
    }
    this.arm();
  }

  /**
   * Defines (or redefines) a schedule. A redefinition with the same timing keeps the last
   * tick (a config loaded again at every start changes nothing); a new timing starts now.
   */
  define(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    const record = this.recordOf(id, options);
    const old = this.entries.get(id);
    const sameTiming =
      old !== undefined &&
      old.record.cron === record.cron &&
      old.record.every === record.every &&
      old.record.timezone === record.timezone;
    // The last tick submitted, even if its write is still in flight: this record is
    // written after it, and must not take it back (its job would be submitted again).
    const kept: ScheduleRecord = sameTiming
      ? {
          ...record,
          since: old.record.since,
          lastTick: old.through > old.record.since ? old.through : old.record.lastTick,
        }
      : record;
    const timing = timingOf(kept.cron, kept.every, kept.timezone, kept.since);
    if (old !== undefined) {
      old.version++; // its timer node is stale now
      releaseTiming(old.record.cron, old.record.timezone);
    }
    const entry = new Entry(kept, timing);
    if (sameTiming) entry.through = old.through;
    this.entries.set(id, entry);
    this.reschedule(entry, timing.next(entry.through));
    const info = this.info(entry);
    const written = this.host.save(kept);
    return written === undefined ? Promise.resolve(info) : written.then(() => info);
  }

  /** Removes a schedule; resolves with whether there was one. */
  remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    this.entries.delete(id);
    entry.version++;
    releaseTiming(entry.record.cron, entry.record.timezone);
    const written = this.host.remove(id);
    return written === undefined ? Promise.resolve(true) : written.then(() => true);
  }

  list(): ScheduleInfo[] {
    return [...this.entries.values()]
      .map((entry) => this.info(entry))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): ScheduleInfo | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : this.info(entry);
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
    return { ...entry.record, nextTick: entry.next };
  }

  private recordOf(id: string, options: ScheduleOptions): ScheduleRecord {
    checkName(id, 'schedule id');
    if (id === '') throw new InvalidArgumentError('a schedule needs an id');
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('schedule options must be an object');
    }
    checkName(options.functionName, 'function name');
    if (options.functionName === '') throw new InvalidArgumentError('a schedule needs a function');
    const priority = options.priority ?? 'normal';
    if (!PRIORITIES.includes(priority)) {
      throw new InvalidArgumentError(`priority must be high, normal or low, not '${priority}'`);
    }
    const catchUp = options.catchUp ?? 'latest';
    if (!CATCH_UPS.includes(catchUp)) {
      throw new InvalidArgumentError(`catchUp must be none, latest or all, not '${catchUp}'`);
    }
    const unique = options.unique ?? id;
    checkName(unique, 'unique id');
    const max = this.host.maxUniqueLength;
    if (Buffer.byteLength(unique) + 1 + TICK_DIGITS > max) {
      // `<unique>:<tick>` must fit the server's unique ids.
      throw new UniqueTooLargeError(max);
    }
    const payload = options.payload ?? '';
    return {
      id,
      cron: options.cron ?? null,
      every: options.every ?? null,
      timezone: options.timezone ?? null,
      functionName: options.functionName,
      payload: typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload),
      priority,
      unique,
      catchUp,
      since: this.now(),
      lastTick: null,
    };
  }

  private reschedule(entry: Entry, next: number | null): void {
    entry.next = next;
    entry.version++;
    if (next !== null) this.heap.push({ entry, at: next, version: entry.version });
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.firing) return;
    let top = this.heap.peek();
    // Stale nodes (removed or rescheduled schedules) are dropped here, not searched for.
    while (top !== undefined && top.version !== top.entry.version) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (top === undefined || top.at >= this.timerAt) return;
    this.timer?.unsubscribe();
    const now = this.now();
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, top.at - now));
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
      for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
        this.heap.pop();
        if (top.version !== top.entry.version) continue;
        // A timer that fires late (a busy event loop) submits the newest due tick, or all of
        // them under `all`.
        const rule = top.entry.record.catchUp === 'all' ? 'all' : 'latest';
        this.run(top.entry, now, rule);
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  /** Submits the entry's due ticks (by `rule`) and schedules its next one. */
  private run(entry: Entry, now: number, rule: CatchUp): void {
    const first = entry.timing.next(entry.through);
    if (first === null || first > now) {
      this.reschedule(entry, first);
      return;
    }
    const before = entry.through;
    const due = entry.timing
      .latest(now, rule === 'all' ? MAX_CATCH_UP : 1)
      .filter((tick) => tick > before);
    // `none` skips them; the newest due tick is where the schedule goes on from.
    entry.through = Math.max(before, due.at(-1) ?? now);
    // The next tick first: a tick that fails reschedules the entry for its retry.
    this.reschedule(entry, entry.timing.next(entry.through));
    if (rule !== 'none' && due.length > 0) this.submitTicks(entry, due, before);
  }

  /**
   * Submits one job per tick, then writes the schedule's last tick in the same turn. A
   * failure stops at that tick: it is tried again later, from the last tick the store has.
   */
  private submitTicks(entry: Entry, ticks: readonly number[], before: number): void {
    const host = this.host;
    const record = entry.record;
    const submitted: { tick: number; outcome: SubmitOutcome | Promise<SubmitOutcome> }[] = [];
    let failure: { tick: number; error: unknown } | null = null;
    for (const tick of ticks) {
      try {
        submitted.push({
          tick,
          outcome: host.submit({
            functionName: record.functionName,
            payload: record.payload,
            priority: record.priority,
            unique: `${record.unique}:${tick}`,
            background: true,
          }),
        });
      } catch (error) {
        failure = { tick, error };
        break;
      }
    }
    const through = submitted.length > 0 ? submitted.at(-1)!.tick : null;
    const saved = through === null ? null : { ...record, lastTick: through };
    let written: Promise<void> | undefined;
    let writeError: unknown = null;
    if (saved !== null) {
      try {
        written = host.save(saved);
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
            scheduleId: record.id,
            tick: submitted[i]!.tick,
            handle: result.handle,
            coalesced: result.coalesced,
          });
        }
      }
      if (refused === null && saved !== null && this.entries.get(record.id) === entry) {
        entry.record = saved;
      }
      if (refused !== null) this.tickFailed(entry, saved!.lastTick ?? 0, refused);
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
    host.onTickError(error, entry.record.id, tick);
    if (host.observed) {
      host.emit({
        type: 'schedule-failed',
        scheduleId: entry.record.id,
        tick,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  /** Goes back to the last tick the store has, and tries the missed ones again soon. */
  private retryLater(entry: Entry, before: number): void {
    if (this.entries.get(entry.record.id) !== entry || this.stopped) return;
    entry.through = Math.max(before, entry.record.lastTick ?? -Infinity);
    entry.version++;
    const at = this.now() + TICK_RETRY_MS;
    entry.next = at;
    this.heap.push({ entry, at, version: entry.version });
    this.arm();
  }
}
