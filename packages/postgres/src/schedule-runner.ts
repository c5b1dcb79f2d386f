import type { ScheduleInfo } from '@geartrain/core';
import { latestTicks, nextTick, type Timing } from '@geartrain/core/transport';
import { priorityOf } from './rows.js';

/** A schedule as the `schedules` table holds it. */
export interface ScheduleRow {
  id: string;
  cron: string | null;
  every: number | null;
  timezone: string | null;
  fn: string;
  payload: Buffer;
  priority: number;
  unique_key: string;
  catch_up: 'none' | 'latest' | 'all';
  since: number;
  last_tick: number | null;
}

/** The newest tick at or before `upTo` that is after the schedule's definition, or null. */
function latestTick(timing: Timing, upTo: number): number | null {
  const tick = latestTicks(timing, upTo, 1)[0];
  return tick !== undefined && tick > timing.since ? tick : null;
}

interface Entry {
  row: ScheduleRow;
  /** The newest tick this node submitted or saw taken. */
  through: number;
}

export function scheduleInfoOf(row: ScheduleRow): ScheduleInfo {
  return {
    id: row.id,
    cron: row.cron,
    every: row.every,
    timezone: row.timezone,
    functionName: row.fn,
    payload: row.payload,
    priority: priorityOf(row.priority),
    unique: row.unique_key,
    catchUp: row.catch_up,
    since: row.since,
    lastTick: row.last_tick,
    nextTick: nextTick(row, Math.max(row.since, row.last_tick ?? -Infinity)),
  };
}

/**
 * Every node evaluates every schedule (no leader): one timer, for the earliest next tick of
 * all, on the database's clock (this node's clock plus the offset its heartbeats measure).
 * When a tick is due it is submitted through the tick statement, whose compare-and-set of
 * the schedule's last tick lets one node win it for the cluster. The newest due tick is
 * submitted (catch-up `latest`); `none` skips the ticks missed before a schedule was seen.
 * Ticks go one after the other, so that `remove` can wait for one in flight.
 */
export class ScheduleRunner {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private offset = 0;
  private stopped = false;

  constructor(
    private readonly submit: (row: ScheduleRow, tick: number) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The database's clock read at `localNow` (this node's): `dbNow`. */
  setClock(dbNow: number, localNow: number): void {
    this.offset = dbNow - localNow;
  }

  now(): number {
    return Date.now() + this.offset;
  }

  /** The schedules as the table has them now. */
  load(rows: readonly ScheduleRow[]): void {
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      this.upsert(row, false);
    }
    for (const id of [...this.entries.keys()]) if (!seen.has(id)) this.entries.delete(id);
    this.arm();
  }

  upsert(row: ScheduleRow, arm = true): void {
    const old = this.entries.get(row.id);
    const last = row.last_tick ?? -Infinity;
    let through = Math.max(row.since, last);
    if (old !== undefined && old.row.since === row.since) through = Math.max(through, old.through);
    else if (row.catch_up === 'none') through = Math.max(through, this.now());
    this.entries.set(row.id, { row, through });
    if (arm) this.arm();
  }

  /** Stops a schedule here; resolves once a tick of it in flight is answered. */
  async remove(id: string): Promise<void> {
    this.entries.delete(id);
    this.arm();
    await this.chain;
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    let earliest = Infinity;
    for (const entry of this.entries.values()) {
      const next = nextTick(entry.row, entry.through);
      if (next !== null && next < earliest) earliest = next;
    }
    if (earliest === Infinity) return;
    // At the tick, not before: a timer may fire a millisecond early.
    const delay = Math.max(0, Math.ceil(earliest - this.now()) + 1);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.fire();
      },
      Math.min(delay, 2 ** 31 - 1),
    );
  }

  private fire(): void {
    const now = this.now();
    for (const entry of this.entries.values()) {
      const tick = latestTick(entry.row, now);
      if (tick === null || tick <= entry.through) continue;
      entry.through = tick;
      const row = entry.row;
      this.chain = this.chain
        .then(() => (this.stopped ? undefined : this.submit(row, tick)))
        .catch(this.onError);
    }
    this.arm();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    return this.chain;
  }
}
