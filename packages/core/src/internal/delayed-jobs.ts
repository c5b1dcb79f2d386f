import type { SchedulerLike, Subscription } from 'rxjs';
import { MinHeap } from './min-heap.js';
import { timerDelay } from './timer-delay.js';
import { JobState, type FunctionEntry, type Job } from './job.js';
import { smallest } from './smallest.js';

/** Earlier time first; the older job first at the same time. */
const sooner = (a: Job, b: Job): boolean =>
  a.runAt < b.runAt || (a.runAt === b.runAt && a.seq < b.seq);

/**
 * Delayed jobs, earliest first, with one timer on the scheduler for the earliest. When it
 * fires, the jobs that are due are handed to `release` together; a job that ended while it
 * waited (cancelled) is dropped from the heap then. A delayed job never blocks another.
 */
export class DelayedJobs {
  private readonly heap = new MinHeap<Job>(sooner);
  private timer: Subscription | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly release: (due: Job[]) => void,
  ) {}

  add(job: Job): void {
    this.heap.push(job);
    this.arm();
  }

  /**
   * The delayed jobs still waiting (of one function, when given), earliest first, at most
   * `limit`. The heap also holds jobs that ended while they waited; they are skipped.
   */
  earliest(limit: number, fn?: FunctionEntry): Job[] {
    return smallest(
      this.heap.values(),
      limit,
      sooner,
      (job) => job.state === JobState.Delayed && (fn === undefined || job.fn === fn),
    );
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = null;
    this.timerAt = Infinity;
  }

  private arm(): void {
    const next = this.heap.peek();
    if (next === undefined || next.runAt >= this.timerAt) return;
    this.timer?.unsubscribe();
    this.timerAt = next.runAt;
    this.timer = this.scheduler.schedule(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.fire();
      },
      timerDelay(next.runAt, this.scheduler.now()),
    );
  }

  private fire(): void {
    const now = this.scheduler.now();
    const due: Job[] = [];
    for (let job = this.heap.peek(); job !== undefined; job = this.heap.peek()) {
      if (job.state === JobState.Delayed && job.runAt > now) break;
      this.heap.pop();
      if (job.state === JobState.Delayed) due.push(job);
    }
    if (due.length > 0) this.release(due);
    this.arm();
  }
}
