import type { SchedulerLike } from 'rxjs';

/**
 * The clock behind the times a kept outcome shows (queued, started, ended). A clock read
 * costs 60-80 ns here, and a job with its outcome kept needs three, which was a tenth of
 * an in-process background job's whole cost. So, on the real clock, one reading serves
 * every stamp of one synchronous stretch: it is dropped at the next microtask, whenever
 * the server hands control to application code it knows of (events), and at the end of
 * every run, which is always read fresh, so that a run's length is measured even when its
 * handler is synchronous (the next job taken in the same stretch starts at that reading,
 * which is exact). nginx and Redis cache their clock per event-loop turn for the same
 * reason. What this costs: application code that runs for a long time between two of its
 * own calls into the server, in one microtask, makes the second call's stamp early by that
 * much (decision 22).
 *
 * A virtual clock is read every time: it jumps inside one synchronous `flush`.
 */
export class StampClock {
  /** The reading this stretch shares, or NaN. */
  private reading = Number.NaN;
  private dropQueued = false;
  private readonly drop = (): void => {
    this.reading = Number.NaN;
    this.dropQueued = false;
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    /** Whether readings may be shared (the real clock). */
    private readonly share: boolean,
  ) {}

  /** The stretch's reading (read now if there is none). */
  now(): number {
    const reading = this.reading;
    // NaN is the only value not equal to itself: no reading held.
    if (reading === reading) return reading;
    return this.read();
  }

  /** A fresh reading, which later stamps of this stretch share. */
  read(): number {
    const time = this.scheduler.now();
    if (this.share) {
      this.reading = time;
      if (!this.dropQueued) {
        this.dropQueued = true;
        queueMicrotask(this.drop);
      }
    }
    return time;
  }

  /** Application code may run now: the next stamp reads the clock again. */
  invalidate(): void {
    this.reading = Number.NaN;
  }
}
