import type { Subscription } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import { checkOptions } from './checks.js';
import { LIMITS_KEYS, RATE_KEYS } from './option-keys.js';
import type { FunctionLimits, RateLimit } from '../types.js';

/**
 * What holds a function's queued jobs back (decision 23): a pause, a limit on how many start
 * per interval across all its workers, and a limit on how many run at once. A function
 * without any has no gate at all (`FunctionEntry.gate` is null), so the common path pays
 * one null check.
 *
 * The rate limit is a sliding window, exact: a job may start at `t` when fewer than `max`
 * started in `(t - duration, t]`. The window keeps the last `max` start times in a ring,
 * so the next start is allowed at the oldest one + `duration`. (A fixed window, as BullMQ's
 * limiter, lets 2×max start around a window's edge; a token bucket lets max start at once
 * and then more within the same interval.)
 */
export class Gate {
  paused = false;
  /** Most jobs running at once across all workers; Infinity: no limit. */
  maxRunning = Infinity;
  private rate: RateLimit | null = null;
  /** Start times, a ring of `rate.max` slots: `filled` of them from `head`. */
  private starts = new Float64Array(0);
  private head = 0;
  private filled = 0;
  /** The timer that wakes the function's workers when the window lets the next job start. */
  timer: Subscription | null = null;
  timerAt = Infinity;

  constructor(readonly functionName: string) {}

  get limits(): FunctionLimits {
    return {
      rate: this.rate,
      concurrency: this.maxRunning === Infinity ? null : this.maxRunning,
    };
  }

  /** Sets both limits (null: none); the starts seen so far still count against a new rate. */
  setLimits(limits: FunctionLimits): void {
    this.maxRunning = limits.concurrency ?? Infinity;
    const rate = limits.rate ?? null;
    const max = rate?.max ?? 0;
    if (max !== this.starts.length) {
      // Keep the newest starts that fit the new ring.
      const kept = Math.min(this.filled, max);
      const starts = new Float64Array(max);
      for (let i = 0; i < kept; i++) {
        starts[i] = this.starts[(this.head + this.filled - kept + i) % this.starts.length]!;
      }
      this.starts = starts;
      this.head = 0;
      this.filled = kept;
    }
    this.rate = rate;
  }

  /** Whether the gate holds nothing back any more (it can be dropped). */
  get open(): boolean {
    return !this.paused && this.maxRunning === Infinity && this.rate === null;
  }

  /** How many more jobs may start at `now`, with `running` running. */
  room(now: number, running: number): number {
    if (this.paused) return 0;
    const room = this.maxRunning - running;
    const rate = this.rate;
    if (rate === null) return room;
    return Math.min(room, rate.max - this.expire(now, rate.duration));
  }

  /**
   * When the rate lets the next job start, or undefined when it is not what holds them back
   * (paused, at the concurrency limit, or room now).
   */
  rateOpensAt(now: number, running: number): number | undefined {
    const rate = this.rate;
    if (rate === null || this.paused || running >= this.maxRunning) return undefined;
    if (this.expire(now, rate.duration) < rate.max) return undefined;
    return this.starts[this.head]! + rate.duration;
  }

  /** A job started at `now` (after `room` said it may). */
  started(now: number): void {
    const length = this.starts.length;
    if (length === 0) return;
    if (this.filled === length) {
      this.head = (this.head + 1) % length;
      this.filled--;
    }
    this.starts[(this.head + this.filled) % length] = now;
    this.filled++;
  }

  /** Drops starts that left the window; returns how many are in it. */
  private expire(now: number, duration: number): number {
    const starts = this.starts;
    const length = starts.length;
    while (this.filled > 0 && starts[this.head]! <= now - duration) {
      this.head = (this.head + 1) % length;
      this.filled--;
    }
    return this.filled;
  }

  stopTimer(): void {
    this.timer?.unsubscribe();
    this.timer = null;
    this.timerAt = Infinity;
  }
}

/** The most starts a rate may count (its window keeps one time per start). */
const MAX_RATE = 1_000_000;

export function checkLimits(limits: FunctionLimits): FunctionLimits {
  checkOptions(limits, 'function limits', LIMITS_KEYS);
  const rate = limits.rate ?? null;
  if (rate !== null) {
    checkOptions(rate, 'rate', RATE_KEYS);
    if (!Number.isSafeInteger(rate.max) || rate.max < 1 || rate.max > MAX_RATE) {
      throw new InvalidArgumentError(`rate.max must be a whole number from 1 to ${MAX_RATE}`);
    }
    if (!(rate.duration > 0) || !Number.isFinite(rate.duration)) {
      throw new InvalidArgumentError('rate.duration must be a number of ms > 0');
    }
  }
  const concurrency = limits.concurrency ?? null;
  if (concurrency !== null && (!Number.isSafeInteger(concurrency) || concurrency < 1)) {
    throw new InvalidArgumentError('concurrency must be a whole number ≥ 1');
  }
  return { rate: rate === null ? null : { max: rate.max, duration: rate.duration }, concurrency };
}
