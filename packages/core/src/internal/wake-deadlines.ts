import type { SchedulerLike, Subscription } from 'rxjs';

/** A worker that was sent a wake (NOOP) and has not answered it yet. */
export interface WokenNode<T> {
  /** When the wake was sent, ms on the scheduler's clock. */
  wokenAt: number;
  prevWoken: T | null;
  nextWoken: T | null;
}

/**
 * The outstanding wakes, oldest first, and the clock that finds the unanswered ones
 * (decision 18). Every wake is given the same `timeout`, so the list is in expiry order too
 * and one timer for its head serves all of them. The list is intrusive (the links live on
 * the worker), so a wake allocates nothing; the timer is left to fire even when its wake was
 * answered meanwhile (it re-arms for the next one), so a busy server schedules at most one
 * timer per `timeout`, not one per wake.
 */
export class WakeDeadlines<T extends WokenNode<T>> {
  private head: T | null = null;
  private tail: T | null = null;
  private timer: Subscription | null = null;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly timeout: number,
    /** The wakes that went unanswered for `timeout`, oldest first; it must `remove` each. */
    private readonly expired: (nodes: T[]) => void,
  ) {}

  push(node: T): void {
    node.wokenAt = this.scheduler.now();
    node.prevWoken = this.tail;
    node.nextWoken = null;
    if (this.tail === null) this.head = node;
    else this.tail.nextWoken = node;
    this.tail = node;
    this.arm();
  }

  /** Unlinks a node; the caller knows it is in the list. */
  remove(node: T): void {
    if (node.prevWoken === null) this.head = node.nextWoken;
    else node.prevWoken.nextWoken = node.nextWoken;
    if (node.nextWoken === null) this.tail = node.prevWoken;
    else node.nextWoken.prevWoken = node.prevWoken;
    node.prevWoken = node.nextWoken = null;
  }

  /** No timer from now on (a closing server assigns nothing, so a late answer is moot). */
  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = null;
  }

  private arm(): void {
    if (this.timer !== null || this.head === null || this.stopped) return;
    if (this.timeout === Infinity) return;
    const due = this.head.wokenAt + this.timeout;
    this.timer = this.scheduler.schedule(
      () => {
        this.timer = null;
        this.fire();
      },
      Math.max(0, due - this.scheduler.now()),
    );
  }

  private fire(): void {
    const deadline = this.scheduler.now() - this.timeout;
    const late: T[] = [];
    for (let n = this.head; n !== null && n.wokenAt <= deadline; n = n.nextWoken) late.push(n);
    if (late.length > 0) this.expired(late);
    this.arm();
  }
}
