import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { roundTripsSettled } from './round-trips.js';

/**
 * Lets promise callbacks and queued microtasks run (handlers, worker pumps), then timers'
 * I/O, and waits for the answers of queue doubles' round trips (they take no virtual time).
 */
export function settle(): Promise<void> {
  return roundTripsSettled();
}

/**
 * A virtual clock: an RxJS scheduler whose time moves only when told. Give `scheduler` to
 * `createJobServer` (or to anything that takes a SchedulerLike); `advanceBy` runs every timer
 * due in between, in time order, letting handlers' promises settle between timers.
 */
export class VirtualClock {
  readonly scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);

  /** The clock's time in ms (starts at 0). */
  now(): number {
    return this.scheduler.now();
  }

  /** The time of the next timer, or undefined when none is scheduled. */
  get nextTimer(): number | undefined {
    return (this.scheduler.actions[0] as { delay?: number } | undefined)?.delay;
  }

  /** Moves time forward by `ms`, running every timer due on the way. */
  async advanceBy(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('advanceBy takes a duration ≥ 0');
    await this.advanceTo(this.now() + ms);
  }

  /** Moves time to `time`, running every timer due on the way. */
  async advanceTo(time: number): Promise<void> {
    await settle();
    for (let i = 0; i < 100_000; i++) {
      const next = this.nextTimer;
      if (next === undefined || next > time) break;
      this.runDue(next);
      await settle();
    }
    if (time > this.scheduler.frame) this.scheduler.frame = time;
  }

  /** Runs the timers due at `time` (and before), moving the clock there. */
  private runDue(time: number): void {
    this.scheduler.maxFrames = time;
    this.scheduler.flush();
    this.scheduler.maxFrames = Infinity;
    if (time > this.scheduler.frame) this.scheduler.frame = time;
  }
}
