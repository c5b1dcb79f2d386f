import { asyncScheduler, Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * A job server's default scheduler: `asyncScheduler`'s clock, with timers that do not keep
 * the process alive (Node's `unref`). RxJS's own timers cannot be unref'd (its actions keep
 * their handles private), hence this small scheduler; tests still inject a TestScheduler.
 *
 * The rule it implements: a job server never keeps the process alive by itself. A delayed
 * job, a back-off or a rate limit does not, just as a queued job without a worker does
 * not: an in-memory job is gone at exit anyway, and a durable one waits in its store for
 * the next start. Except while someone in this process waits on the server (`waiting()`: a
 * foreground job's result, an `events$` subscriber, a schedule, a `close()` in progress):
 * when the event loop has nothing else left, the earliest timer is held until it fires, so
 * that `await client.run(…)` of a job in its back-off, or held back by a rate limit, gets
 * its result instead of the process ending under it.
 */
export class ServerTimers implements SchedulerLike {
  private readonly live = new Set<Timer>();
  /** A ref'd timer that holds the process until the earliest live timer is due, or null. */
  private keeper: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly waiting: () => boolean) {}

  now(): number {
    return asyncScheduler.now();
  }

  schedule<T>(
    work: (this: SchedulerAction<T>, state?: T) => void,
    delay = 0,
    state?: T,
  ): Subscription {
    return new TimerAction<T>(this, work).schedule(state, delay);
  }

  /** @internal A timer was set. */
  armed(action: Timer): void {
    this.live.add(action);
    if (this.live.size === 1) watch(this);
  }

  /** @internal A timer fired or was cleared. */
  disarmed(action: Timer): void {
    if (this.live.delete(action) && this.live.size === 0) watching.delete(this);
  }

  /**
   * Node's `beforeExit`: nothing but unref'd timers is left. If someone waits, hold the
   * process until the earliest timer has fired; it is asked again when the loop next runs dry.
   */
  beforeExit(): void {
    if (this.keeper !== null) clearTimeout(this.keeper);
    this.keeper = null;
    if (this.live.size === 0 || !this.waiting()) return;
    let due = Infinity;
    for (const action of this.live) due = Math.min(due, action.due);
    this.keeper = setTimeout(release, Math.max(0, due - this.now()), this);
  }

  /** @internal The keeper has run out. */
  released(): void {
    this.keeper = null;
  }
}

function release(timers: ServerTimers): void {
  timers.released();
}

/** Schedulers with live timers; one `beforeExit` listener for all, added on first use. */
const watching = new Set<ServerTimers>();
let listening = false;

function watch(timers: ServerTimers): void {
  watching.add(timers);
  if (listening) return;
  listening = true;
  process.on('beforeExit', () => {
    for (const each of [...watching]) each.beforeExit();
  });
}

interface Timer {
  readonly due: number;
}

/** One timer: what `schedule` returns, and what the work may `schedule` again (as rxjs's). */
class TimerAction<T> extends Subscription implements SchedulerAction<T>, Timer {
  /** When it is due, on the scheduler's clock. */
  due = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly timers: ServerTimers,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    if (this.timer !== null) clearTimeout(this.timer);
    this.due = this.timers.now() + delay;
    this.timer = setTimeout(fire, delay, this, state);
    this.timer.unref();
    this.timers.armed(this);
    return this;
  }

  /** @internal Its time has come. */
  run(state: T | undefined): void {
    this.timer = null;
    this.timers.disarmed(this);
    try {
      this.work(state);
    } catch (error) {
      // As rxjs's AsyncAction: a timer whose work threw is done, and the error is thrown on.
      this.unsubscribe();
      throw error;
    }
  }

  override unsubscribe(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.timers.disarmed(this);
    }
    super.unsubscribe();
  }
}

function fire<T>(action: TimerAction<T>, state: T | undefined): void {
  action.run(state);
}
