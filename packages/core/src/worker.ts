// Imported, not the global: a use of the global `Buffer` is a getter call (see payload.ts).
import { Buffer } from 'node:buffer';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import {
  ConnectionClosedError,
  InvalidArgumentError,
  JobFailedError,
  JobNotFoundError,
  WorkFail,
} from './errors.js';
import { toBuffer } from './internal/payload.js';
import { checkName, checkOptions, refusal } from './internal/checks.js';
import { REGISTER_KEYS, WORKER_CLOSE_KEYS } from './internal/option-keys.js';
import { applyPolicies } from './policies.js';
import type {
  JobContext,
  JobHandler,
  RegisterOptions,
  WorkAssignment,
  WorkerCloseOptions,
  WorkerEvent,
  WorkerJobInfo,
  WorkerLike,
  WorkerOptions,
  WorkReport,
} from './worker-types.js';
import type { FailReason, PayloadInput } from './types.js';
import { isThenable } from './internal/thenable.js';

const DEFAULT_STOP_TIMEOUT = 30_000;
/** One object for every WORK_FAIL: it carries nothing. */
const FAIL_REPORT: WorkReport = { type: 'fail' };

/** One running job in a worker. */
class RunningJob<A extends WorkAssignment> implements JobContext {
  prev: RunningJob<A> | null = null;
  next: RunningJob<A> | null = null;
  timer: Subscription | null = null;
  private controller: AbortController | null = null;
  /** Why the job was taken back (its signal's abort reason), or null. */
  private revokedReason: Error | null = null;
  private payloadText: string | undefined;

  constructor(
    private readonly worker: WorkerBase<A>,
    readonly assignment: A,
    readonly startedAt: number,
  ) {}

  get handle(): string {
    return this.assignment.handle;
  }
  get functionName(): string {
    return this.assignment.functionName;
  }
  get unique(): string {
    return this.assignment.unique;
  }
  get payload(): Buffer {
    return this.assignment.payload;
  }
  get attempt(): number {
    return this.assignment.attempt;
  }
  get revoked(): boolean {
    return this.revokedReason !== null;
  }

  get signal(): AbortSignal {
    // Created on first use: most handlers never look at it.
    this.controller ??= new AbortController();
    if (this.revokedReason !== null && !this.controller.signal.aborted) {
      this.controller.abort(this.revokedReason);
    }
    return this.controller.signal;
  }

  text(): string {
    return (this.payloadText ??= this.payload.toString('utf8'));
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  status(numerator: number, denominator: number): void {
    if (this.revokedReason === null)
      this.worker.report(this.assignment, { type: 'status', numerator, denominator });
  }

  data(chunk: PayloadInput): void {
    if (this.revokedReason === null) {
      this.worker.report(this.assignment, { type: 'data', data: toBuffer(chunk) });
    }
  }

  warning(chunk: PayloadInput): void {
    if (this.revokedReason === null) {
      this.worker.report(this.assignment, { type: 'warning', data: toBuffer(chunk) });
    }
  }

  info(): WorkerJobInfo {
    const { handle, functionName, unique, attempt } = this.assignment;
    return { handle, functionName, unique, attempt };
  }

  /** Takes the job back: its signal aborts with a `JobFailedError` of `reason`, or with `reason` itself. */
  revoke(reason: FailReason | Error): void {
    if (this.revokedReason !== null) return;
    this.revokedReason = reason instanceof Error ? reason : new JobFailedError(this.handle, reason);
    this.controller?.abort(this.revokedReason);
  }
}

/** A registered function, as a worker keeps it. */
export interface Registration {
  handler: JobHandler;
  options: RegisterOptions;
  /** Jobs of this function running now. */
  active: number;
}

/**
 * What every worker shares whatever its transport: handlers, running jobs and their
 * contexts, outcomes, lifecycle events, policies and graceful stop. A transport (the
 * in-process connection, TCP connections to servers) implements the abstract members:
 * registrations, reports on jobs, and the loop that takes jobs and calls `execute`.
 */
export abstract class WorkerBase<A extends WorkAssignment = WorkAssignment> implements WorkerLike {
  readonly scheduler: SchedulerLike;
  protected readonly handlers = new Map<string, Registration>();
  /** Running jobs, newest first (a list: no hashing per job). */
  private runningHead: RunningJob<A> | null = null;
  private runningCount = 0;
  private readonly eventsSubject = new Subject<WorkerEvent>();
  protected state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private jobsDone = 0;
  private stopReason = 'stopped';
  private stopDeadline: Subscription | null = null;
  private policySubscription: Subscription | null = null;
  private resolveDone!: () => void;
  /** Resolves once the worker has stopped (`afterRun` emitted). */
  readonly done: Promise<void>;

  protected constructor(scheduler: SchedulerLike) {
    this.scheduler = scheduler;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Applies the options' policies and schedules `start()` unless `autorun: false`. */
  protected init(options: WorkerOptions): void {
    this.policySubscription = applyPolicies(this, options);
    if (options.autorun ?? true) queueMicrotask(() => this.start());
  }

  // ------------------------------------------------------------------ transport

  /** CAN_DO (CAN_DO_TIMEOUT with a timeout) for one function. */
  protected abstract sendCanDo(functionName: string, options: RegisterOptions): void;
  /** CANT_DO. */
  protected abstract sendCantDo(functionName: string): void;
  /** Opens the transport and registers every function (`start`). */
  protected abstract open(functions: readonly string[]): void;
  /** Takes jobs while there is room, calling `execute` for each. */
  protected abstract pump(): void;
  /** Sends a job's outcome or update (WORK_*); may throw JobNotFoundError/ConnectionClosedError. */
  protected abstract send(assignment: A, report: WorkReport): void;
  /** Closes the transport once stopped; running jobs left go back to the server. */
  protected abstract shut(): void;

  // ------------------------------------------------------------------ public API

  /** Lifecycle events; see {@link WorkerEvent}. */
  get events$(): Observable<WorkerEvent> {
    return this.eventsSubject.asObservable();
  }

  /** Jobs finished so far. */
  get completedJobs(): number {
    return this.jobsDone;
  }

  /** Jobs running now. */
  get activeJobs(): number {
    return this.runningCount;
  }

  /** Registers a handler for a function (CAN_DO, or CAN_DO_TIMEOUT with `timeout`). */
  register(functionName: string, handler: JobHandler, options: RegisterOptions = {}): this {
    if (this.state === 'stopping' || this.state === 'stopped') throw new ConnectionClosedError();
    // Refused now, not when the registration reaches the server or the first job arrives.
    checkName(functionName, 'function name');
    checkOptions(options, 'register options', REGISTER_KEYS);
    if (typeof handler !== 'function')
      throw new InvalidArgumentError('a handler must be a function');
    const concurrency = options.concurrency ?? 1;
    const timeout = options.timeout ?? 0;
    if (!(concurrency >= 1) || !(timeout >= 0)) {
      throw new InvalidArgumentError('concurrency must be ≥ 1 and timeout ≥ 0');
    }
    // Registering again updates the entry in place: its running jobs still count against it.
    const existing = this.handlers.get(functionName);
    if (existing === undefined) this.handlers.set(functionName, { handler, options, active: 0 });
    else {
      existing.handler = handler;
      existing.options = options;
    }
    if (this.state === 'running') {
      this.emit({ type: 'beforeRegister', time: this.now(), functions: [functionName] });
      this.sendCanDo(functionName, options);
      this.emit({ type: 'afterRegister', time: this.now(), functions: [functionName] });
      this.schedulePump();
    }
    return this;
  }

  /** Unregisters a function (CANT_DO); its running jobs go back to the server. */
  unregister(functionName: string): this {
    this.handlers.delete(functionName);
    if (this.state === 'running') this.sendCantDo(functionName);
    return this;
  }

  /** Starts working (done automatically unless `autorun: false`). */
  start(): this {
    if (this.state !== 'new') return this;
    this.state = 'running';
    this.emit({ type: 'beforeRun', time: this.now() });
    this.open([...this.handlers.keys()]);
    return this;
  }

  /** Starts (if needed) and resolves when the worker has stopped. */
  async run(): Promise<void> {
    this.start();
    return this.done;
  }

  /**
   * Closes gracefully: no new jobs; running ones get `timeout` ms to finish, then their
   * signals abort and they go back to the server for another worker. Resolves once the
   * worker has stopped (`done`). Idempotent.
   */
  close(options: WorkerCloseOptions = {}): Promise<void> {
    const refused = refusal(() => checkOptions(options, 'close options', WORKER_CLOSE_KEYS));
    if (refused !== null) return refused;
    if (this.state === 'new') this.state = 'running';
    if (this.state === 'running') {
      this.state = 'stopping';
      this.stopReason = options.reason ?? 'stopped';
      this.stopping();
      const timeout = options.timeout ?? DEFAULT_STOP_TIMEOUT;
      const abandon = () => {
        for (let job = this.runningHead; job !== null; job = job.next) job.revoke('SHUTDOWN');
        this.finishStop();
      };
      if (this.runningCount === 0) this.finishStop();
      // 0: at once (a worker whose handlers died with their thread), no timer hop.
      else if (timeout <= 0) abandon();
      else this.stopDeadline = this.scheduler.schedule(abandon, timeout);
    }
    return this.done;
  }

  /** @deprecated The old name of {@link close} (every object of the API ends with `close`). */
  stop(options?: WorkerCloseOptions): Promise<void> {
    return this.close(options);
  }

  // ------------------------------------------------------------------ for transports

  /** Called when a stop begins (before running jobs finish): stop taking work. */
  protected stopping(): void {}

  /** Whether a job of this function may start now (its `concurrency` not reached). */
  protected hasRoomFor(functionName: string): boolean {
    const entry = this.handlers.get(functionName);
    return entry !== undefined && entry.active < (entry.options.concurrency ?? 1);
  }

  /** Whether some registered function has room for another job. */
  protected get hasRoom(): boolean {
    for (const entry of this.handlers.values()) {
      if (entry.active < (entry.options.concurrency ?? 1)) return true;
    }
    return false;
  }

  protected now(): number {
    return this.scheduler.now();
  }

  protected get observed(): boolean {
    return this.eventsSubject.observed;
  }

  private emitting = 0;

  protected emit(event: WorkerEvent): void {
    if (!this.eventsSubject.observed) return;
    this.emitting++;
    try {
      this.eventsSubject.next(event);
    } finally {
      this.emitting--;
    }
  }

  private pumpScheduled = false;

  /** Runs `pump` on the next microtask (never inside the server's own call). */
  protected schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      if (this.state === 'running') this.pump();
    });
  }

  /** The server took a job back (timeout, cancel, shutdown): its signal aborts. */
  protected revokeRunning(handle: string, reason: FailReason): void {
    this.revokeWhere((assignment) => assignment.handle === handle, reason);
  }

  /** Revokes every running job that passes `test` (those of a lost server connection). */
  protected revokeWhere(test: (assignment: A) => boolean, reason: FailReason | Error): void {
    for (let job = this.runningHead; job !== null; job = job.next) {
      if (test(job.assignment)) job.revoke(reason);
    }
  }

  /** Runs one job with its handler. */
  protected execute(assignment: A): void {
    const entry = this.handlers.get(assignment.functionName);
    const job = new RunningJob(this, assignment, this.eventsSubject.observed ? this.now() : 0);
    this.link(job);
    if (this.eventsSubject.observed) {
      const info = job.info();
      this.emit({ type: 'jobReceived', time: this.now(), job: info });
      this.emit({ type: 'beforeExecute', time: this.now(), job: info });
    }
    if (entry === undefined) {
      // Registered and unregistered in between: give the job back.
      this.unlink(job);
      this.sendCantDo(assignment.functionName);
      return;
    }
    entry.active++;
    const timeout = entry.options.timeout ?? 0;
    if (timeout > 0 && this.enforcesTimeouts) {
      job.timer = this.scheduler.schedule(() => {
        job.revoke('TIMEOUT');
        this.report(job.assignment, FAIL_REPORT);
      }, timeout);
    }
    let result: unknown;
    try {
      result = entry.handler(job);
    } catch (error) {
      this.settle(job, entry, false, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.settle(job, entry, true, value),
        (error: unknown) => this.settle(job, entry, false, error),
      );
    } else {
      this.settle(job, entry, true, result);
    }
  }

  /**
   * Whether the worker itself fails a job at its function's timeout. The in-process server
   * does this itself (and revokes the job); over TCP the worker does it, as gearmand only
   * requeues a timed-out job.
   */
  protected get enforcesTimeouts(): boolean {
    return false;
  }

  /** Sends an outcome or update; a job the server already took back is not an error. */
  report(assignment: A, report: WorkReport): void {
    try {
      this.send(assignment, report);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  /** `report` of a result, the outcome of nearly every job: see `sendComplete`. */
  private reportComplete(assignment: A, data: Buffer): void {
    try {
      this.sendComplete(assignment, data);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  /**
   * Sends a result (WORK_COMPLETE). A transport may override it to send without making a
   * report object, one allocation fewer per job (decision 33).
   */
  protected sendComplete(assignment: A, data: Buffer): void {
    this.send(assignment, { type: 'complete', data });
  }

  private settle(job: RunningJob<A>, entry: Registration, ok: boolean, value: unknown): void {
    // A handler that ends after the worker stopped: its job was taken back already.
    if (this.state === 'stopped') return;
    this.unlink(job);
    entry.active--;
    job.timer?.unsubscribe();
    let outcome: 'complete' | 'fail' | 'exception' | 'revoked' = 'revoked';
    if (!job.revoked) {
      if (ok) {
        try {
          this.reportComplete(job.assignment, encodeResult(value));
          outcome = 'complete';
        } catch (error) {
          ok = false;
          value = error;
        }
      }
      if (!ok) {
        if (value instanceof WorkFail) {
          outcome = 'fail';
          this.report(job.assignment, { type: 'fail', error: value });
        } else {
          outcome = 'exception';
          const message = value instanceof Error ? value.message : String(value);
          this.report(job.assignment, { type: 'exception', data: toBuffer(message), error: value });
        }
        if (this.eventsSubject.observed) {
          this.emit({ type: 'failure', time: this.now(), job: job.info(), error: value });
        }
      }
    }
    this.jobsDone++;
    if (this.eventsSubject.observed) {
      this.emit({
        type: 'afterExecute',
        time: this.now(),
        job: job.info(),
        outcome,
        duration: this.now() - job.startedAt,
        jobsDone: this.jobsDone,
      });
    }
    if (this.state === 'stopping') {
      if (this.runningCount === 0) this.finishStop();
      return;
    }
    this.settled(job.assignment);
  }

  /** Called after a job settled while running: take more work. */
  protected abstract settled(assignment: A): void;

  private link(job: RunningJob<A>): void {
    job.next = this.runningHead;
    if (this.runningHead !== null) this.runningHead.prev = job;
    this.runningHead = job;
    this.runningCount++;
  }

  private unlink(job: RunningJob<A>): void {
    if (job.prev === null) {
      if (this.runningHead === job) this.runningHead = job.next;
    } else job.prev.next = job.next;
    if (job.next !== null) job.next.prev = job.prev;
    job.prev = job.next = null;
    this.runningCount--;
  }

  private finishStop(): void {
    if (this.state === 'stopped') return;
    if (this.emitting > 0) {
      // Stopped by a subscriber (a policy) while an event is being delivered: let every
      // subscriber see that event before `afterRun` completes the stream.
      queueMicrotask(() => this.finishStop());
      return;
    }
    this.state = 'stopped';
    this.stopDeadline?.unsubscribe();
    for (let job = this.runningHead; job !== null; job = job.next) job.timer?.unsubscribe();
    this.runningHead = null;
    this.runningCount = 0;
    this.shut();
    this.emit({
      type: 'afterRun',
      time: this.now(),
      reason: this.stopReason,
      jobsDone: this.jobsDone,
    });
    this.eventsSubject.complete();
    this.policySubscription?.unsubscribe();
    this.resolveDone();
  }
}

/** A job the server already took back, or a closed connection: no error of the handler's. */
function isGone(error: unknown): boolean {
  return error instanceof JobNotFoundError || error instanceof ConnectionClosedError;
}

/** A handler's return value as a result payload. */
export function encodeResult(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string' || value instanceof Uint8Array) return toBuffer(value);
  return Buffer.from(JSON.stringify(value), 'utf8');
}
