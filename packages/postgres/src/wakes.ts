/**
 * When this node is to look again at functions whose next job is not runnable yet (a
 * delayed job, a retry's back-off, a rate window): one timer, for the earliest of them
 * (shared-queue notes, point 6). Each time comes as a wait measured from the database's
 * answer, so no clock is compared: the timer fires after the job is due, never before, and
 * only by the time the answer took to arrive plus the timer's own lateness.
 */
export class Wakes {
  /** Function → when to look again (local ms). */
  private readonly times = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly wake: (names: string[]) => void) {}

  /** Looks at `name` again in `delay` ms (an earlier time already set stays). */
  at(name: string, delay: number): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, Math.ceil(delay));
    const known = this.times.get(name);
    if (known !== undefined && known <= at) return;
    this.times.set(name, at);
    if (at < this.timerAt) this.arm(at);
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    // One millisecond more: a timer may fire a little before its time.
    this.timer = setTimeout(
      () => this.fire(),
      Math.min(Math.max(0, at - Date.now()) + 1, 2 ** 31 - 1),
    );
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = Date.now();
    const due: string[] = [];
    let next = Infinity;
    for (const [name, at] of this.times) {
      if (at <= now) {
        due.push(name);
        this.times.delete(name);
      } else if (at < next) next = at;
    }
    if (next !== Infinity) this.arm(next);
    if (due.length > 0) this.wake(due);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.times.clear();
  }
}
