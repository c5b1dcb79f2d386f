import {
  createJobServer,
  type ClientOptions,
  type AttemptFailure,
  type FailReason,
  type InProcessClient,
  type InProcessWorker,
  type JobInfo,
  type JobOutcome,
  type JobServer,
  type OutcomeFilter,
  type JobServerOptions,
  type WorkerOptions,
} from '@geartrain/core';
import { checkOptions, knownKeys } from '@geartrain/core/transport';
import { InvalidArgumentError } from '@geartrain/core';
import type { Subscription } from 'rxjs';
import { VirtualClock } from './clock.js';

/** A job that has ended, as the test server saw it. */
export interface FinishedJob {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly background: boolean;
  readonly outcome: 'completed' | 'failed' | 'cancelled';
  /** Why it failed (`failed` only). */
  readonly reason?: FailReason | 'EXCEPTION';
  /** When it ended, in virtual ms. */
  readonly time: number;
}

/** A failed attempt that is retried, as the test server saw it (`retrying` events). */
export interface RetriedAttempt {
  readonly handle: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly reason: AttemptFailure;
  /** The back-off before the next attempt, in ms. */
  readonly delay: number;
  /** When it failed, in virtual ms. */
  readonly time: number;
}

/** A tick of a schedule, as the test server saw it (`scheduled` events). */
export interface ScheduledTick {
  readonly scheduleId: string;
  /** The tick's time; its job was submitted at `time` (the same, unless it was retried). */
  readonly tick: number;
  readonly handle: string;
  readonly coalesced: boolean;
  readonly time: number;
}

/** A wait a function's rate limit imposed (`limited` events). */
export interface LimitWait {
  readonly functionName: string;
  /** When the limit let the next job start. */
  readonly until: number;
  readonly time: number;
}

export interface TestServerOptions extends Omit<JobServerOptions, 'scheduler'> {
  /**
   * Where the virtual clock starts, in ms since 1970 (default 0): a test of cron schedules
   * in a time zone starts on the date it is about, e.g. `Date.parse('2026-03-28T00:00Z')`.
   */
  readonly startAt?: number;
  /**
   * The virtual clock to run on (default: a new one). Share one between the test server and
   * what else must keep its time: a queue double's (`createQueueDouble({ scheduler:
   * clock.scheduler })`, given as `queue: double.node()`), or other test servers, nodes of
   * the same queue.
   */
  readonly clock?: VirtualClock;
}

// The server's own options less `scheduler` (the virtual clock is the point), plus startAt.
const TEST_SERVER_KEYS = knownKeys<TestServerOptions>({
  startAt: true,
  clock: true,
  handlePrefix: true,
  maxRetries: true,
  maxQueue: true,
  maxUniqueLength: true,
  queue: true,
  nodeName: true,
  store: true,
  workerWakeup: true,
  wakeTimeout: true,
  exceptions: true,
  logger: true,
  jobPolicies: true,
  random: true,
  keep: true,
  outcomeDataLimit: true,
  releaseMemory: true,
});

/**
 * An in-process job server on a virtual clock, for tests of job code: time moves only with
 * `advanceBy`, and `runUntilIdle` runs everything that can run.
 */
export class TestServer {
  readonly clock: VirtualClock;
  /** The job server itself (every JobServer method). */
  readonly server: JobServer;
  private readonly ended: FinishedJob[] = [];
  private readonly retriedAttempts: RetriedAttempt[] = [];
  private readonly tickList: ScheduledTick[] = [];
  private readonly waits: LimitWait[] = [];
  private readonly subscription: Subscription;

  constructor(options: TestServerOptions = {}) {
    checkOptions(options, 'test server options', TEST_SERVER_KEYS);
    const { startAt, clock, ...serverOptions } = options;
    if (clock !== undefined && !(clock instanceof VirtualClock)) {
      throw new InvalidArgumentError('test server option clock must be a VirtualClock');
    }
    this.clock = clock ?? new VirtualClock();
    // Moved, not run: give startAt to the test server made first on a shared clock.
    if (startAt !== undefined) this.clock.scheduler.frame = startAt;
    this.server = createJobServer({ ...serverOptions, scheduler: this.clock.scheduler });
    const known = new Map<string, { functionName: string; unique: string; background: boolean }>();
    this.subscription = this.server.events$.subscribe((event) => {
      switch (event.type) {
        case 'submitted':
          known.set(event.handle, {
            functionName: event.functionName,
            unique: event.unique,
            background: event.background,
          });
          return;
        case 'scheduled':
          this.tickList.push({
            scheduleId: event.scheduleId,
            tick: event.tick,
            handle: event.handle,
            coalesced: event.coalesced,
            time: event.time,
          });
          return;
        case 'limited':
          this.waits.push({
            functionName: event.functionName,
            until: event.until,
            time: event.time,
          });
          return;
        case 'retrying':
          this.retriedAttempts.push({
            handle: event.handle,
            attempt: event.attempt,
            reason: event.reason,
            delay: event.delay,
            time: event.time,
          });
          return;
        case 'completed':
        case 'failed':
        case 'cancelled': {
          const job = known.get(event.handle);
          known.delete(event.handle);
          this.ended.push({
            handle: event.handle,
            functionName: job?.functionName ?? '',
            unique: job?.unique ?? '',
            background: job?.background ?? false,
            outcome: event.type,
            ...(event.type === 'failed' ? { reason: event.reason } : {}),
            time: event.time,
          });
        }
      }
    });
  }

  /** The virtual time in ms. */
  now(): number {
    return this.clock.now();
  }

  client(options?: ClientOptions): InProcessClient {
    return this.server.client(options);
  }

  worker(options?: WorkerOptions): InProcessWorker {
    return this.server.worker(options);
  }

  /** Moves virtual time forward, running delayed jobs, timeouts and every handler they start. */
  advanceBy(ms: number): Promise<void> {
    return this.clock.advanceBy(ms);
  }

  /**
   * Runs timers and handlers until nothing more can happen: no timer left, and nothing ran
   * in the last step. Throws if that takes more than `maxSteps` (a timer that re-arms
   * forever: a schedule's is one, so with schedules move time with `advanceBy`).
   */
  async runUntilIdle(maxSteps = 10_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      const before = await this.fingerprint();
      await this.clock.advanceBy(0);
      const next = this.clock.nextTimer;
      if (next === undefined) {
        if ((await this.fingerprint()) === before) return;
        continue;
      }
      await this.clock.advanceTo(next);
    }
    throw new Error(`runUntilIdle: still busy after ${maxSteps} steps`);
  }

  /** Jobs waiting to run (delayed ones included). */
  async queued(): Promise<JobInfo[]> {
    return (await this.server.jobs()).filter((j) => j.state !== 'running');
  }

  /** Jobs a worker holds now. */
  async running(): Promise<JobInfo[]> {
    return (await this.server.jobs()).filter((j) => j.state === 'running');
  }

  // What this test server saw of the jobs' events, in order: kept in this process, so read
  // at once (the queue's own views above answer with a Promise, as the job server's do).

  /** Jobs that ended, in the order they ended. */
  finished(): readonly FinishedJob[] {
    return this.ended;
  }

  /** Failed attempts that were retried, in order, with their back-off. */
  retries(): readonly RetriedAttempt[] {
    return this.retriedAttempts;
  }

  /** Ticks of schedules that submitted (or found live) their job, in order. */
  ticks(): readonly ScheduledTick[] {
    return this.tickList;
  }

  /** Waits that rate limits imposed, in order. */
  limitWaits(): readonly LimitWait[] {
    return this.waits;
  }

  /** Kept outcomes of ended background jobs (`JobServer.outcomes`). */
  outcomes(options?: OutcomeFilter): Promise<JobOutcome[]> {
    return this.server.outcomes(options);
  }

  async close(): Promise<void> {
    const closing = this.server.close({ timeout: 0 });
    await this.clock.advanceBy(0);
    await closing;
    this.subscription.unsubscribe();
  }

  private async fingerprint(): Promise<string> {
    const jobs = await this.server.jobs();
    const running = jobs.filter((j) => j.state === 'running').length;
    return `${this.ended.length}/${jobs.length}/${running}`;
  }
}

/** Creates a job server on a virtual clock (see {@link TestServer}). */
export function createTestServer(options: TestServerOptions = {}): TestServer {
  return new TestServer(options);
}
