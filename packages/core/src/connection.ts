import { ConnectionClosedError, InvalidArgumentError, JobNotFoundError } from './errors.js';
import type {
  Assignment,
  Engine,
  SubmitOutcome,
  SubmitRequest,
  WorkerState,
} from './internal/engine.js';
import type {
  Ability,
  Attachment,
  FunctionEntry,
  Job,
  JobListener,
  RunInfo,
} from './internal/job.js';
import { toBuffer } from './internal/payload.js';
import type { FailReason, JobStatus, PayloadInput, UniqueJobStatus } from './types.js';

/** What the server tells a connection on its own initiative. */
export interface ConnectionSink {
  /**
   * Work may be available for this sleeping worker (Gearman NOOP). Must not grab
   * synchronously: schedule the grab (the server is in the middle of an operation).
   */
  wake(): void;
  /**
   * The server took back a job this connection holds: it timed out, was cancelled, or the
   * server is shutting down. A result sent for it later is refused with JOB_NOT_FOUND.
   */
  revoked?(handle: string, reason: FailReason): void;
}

export interface ConnectionOptions {
  /** Shown by the `workers` admin command (gearmand shows the peer's IP address). */
  address?: string;
  sink?: ConnectionSink;
}

export interface CanDoOptions {
  /** A job of this function assigned to this connection fails after this many ms (0: never). */
  timeout?: number;
  /** How many jobs of this function the connection takes at once (default: no limit). */
  capacity?: number;
}

export type { Assignment, SubmitOutcome, SubmitRequest } from './internal/engine.js';
export type { JobListener } from './internal/job.js';

/**
 * One connection to the job server: what a Gearman TCP connection, a thread of the pool or
 * an in-process client or worker is to the server. Like a gearmand connection it may both
 * submit jobs and work them. Every method maps to a Gearman request (reference §2).
 *
 * Methods that act on a job this connection holds throw {@link JobNotFoundError} when it
 * does not hold it (never held, finished, timed out, cancelled, or taken back).
 */
export class Connection implements WorkerState {
  readonly id: number;
  readonly address: string;
  /** SET_CLIENT_ID; `-` until set. */
  clientId = '-';

  // WorkerState, used by the engine.
  readonly abilities = new Map<string, Ability>();
  order: Ability[] = [];
  cursor = 0;
  sleeping = false;
  wokenFor: FunctionEntry | null = null;
  wokenAt = 0;
  prevWoken: Connection | null = null;
  nextWoken: Connection | null = null;
  heldHead: RunInfo | null = null;
  heldCount = 0;
  attachedHead: Attachment | null = null;

  private readonly engine: Engine;
  private readonly sink: ConnectionSink | undefined;
  private readonly onClose: (connection: Connection) => void;
  private closedFlag = false;

  /** @internal Connections are opened with `server.connect()`. */
  constructor(
    engine: Engine,
    id: number,
    options: ConnectionOptions,
    onClose: (connection: Connection) => void,
  ) {
    this.engine = engine;
    this.id = id;
    this.address = options.address ?? 'in-process';
    this.sink = options.sink;
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The functions this connection can do, most recently registered first (as `workers`). */
  get functions(): string[] {
    return this.order.map((a) => a.fn.name).reverse();
  }

  /** Jobs this connection holds now. */
  get holding(): number {
    return this.heldCount;
  }

  // ------------------------------------------------------------------ client side

  /**
   * SUBMIT_JOB*: queues a job or joins the one with the same unique id. A foreground
   * submission passes a listener, which receives every later update of the job. Returns at
   * once, or a Promise while a background job is being written to an asynchronous store.
   *
   * @throws InvalidArgumentError, UniqueTooLargeError, QueueFullError, ServerClosedError,
   *   StoreError (synchronous stores; asynchronous ones reject the Promise).
   */
  submit(request: SubmitRequest, listener?: JobListener): SubmitOutcome | Promise<SubmitOutcome> {
    this.assertOpen();
    return this.engine.submit(this, request, listener);
  }

  /** Stops delivering a job's updates to `listener` (an abandoned submission). */
  detach(handle: string, listener: JobListener): void {
    const job = this.engine.jobByHandle(handle);
    if (job !== undefined) this.engine.detach(job, this, listener);
  }

  /** GET_STATUS. */
  status(handle: string): JobStatus {
    return this.engine.status(handle);
  }

  /** GET_STATUS_UNIQUE; give the function name for an exact answer. */
  statusByUnique(unique: string, functionName?: string): UniqueJobStatus {
    return this.engine.statusByUnique(unique, functionName);
  }

  // ------------------------------------------------------------------ worker side

  /** CAN_DO / CAN_DO_TIMEOUT. Registering again updates the options. */
  canDo(functionName: string, options: CanDoOptions = {}): void {
    this.assertOpen();
    const timeout = options.timeout ?? 0;
    const capacity = options.capacity ?? Infinity;
    if (!(timeout >= 0) || !(capacity >= 1)) {
      throw new InvalidArgumentError('timeout must be ≥ 0 and capacity ≥ 1');
    }
    this.engine.canDo(this, functionName, timeout, capacity);
  }

  /** CANT_DO: jobs of that function held by this connection go back to the queue. */
  cantDo(functionName: string): void {
    this.engine.cantDo(this, functionName);
  }

  /** RESET_ABILITIES. */
  resetAbilities(): void {
    this.engine.resetAbilities(this);
  }

  /** GRAB_JOB*: the next job for this connection, or undefined (NO_JOB). */
  grab(): Assignment | undefined {
    if (this.closedFlag) return undefined;
    return this.engine.grab(this);
  }

  /** PRE_SLEEP: the sink's `wake` is called when work arrives (at once if there is some). */
  preSleep(): void {
    if (!this.closedFlag) this.engine.preSleep(this);
  }

  // The work* methods name the job by its handle (as on the wire) or by the Assignment that
  // `grab()` returned (in-process workers: no handle lookup).

  /** WORK_STATUS. */
  workStatus(job: string | Assignment, numerator: number, denominator: number): void {
    this.engine.workStatus(this.heldJob(job), numerator, denominator);
  }

  /** WORK_DATA. */
  workData(job: string | Assignment, data: PayloadInput): void {
    this.engine.workData(this.heldJob(job), 'data', toBuffer(data));
  }

  /** WORK_WARNING. */
  workWarning(job: string | Assignment, data: PayloadInput): void {
    this.engine.workData(this.heldJob(job), 'warning', toBuffer(data));
  }

  /** WORK_COMPLETE. */
  workComplete(job: string | Assignment, data?: PayloadInput): void {
    const held = this.heldJob(job);
    this.engine.workComplete(held, toBuffer(data), typeof job === 'string' ? job : job.handle);
  }

  /** WORK_FAIL. */
  workFail(job: string | Assignment): void {
    this.engine.workFail(this.heldJob(job));
  }

  /** WORK_EXCEPTION. */
  workException(job: string | Assignment, data?: PayloadInput): void {
    this.engine.workException(this.heldJob(job), toBuffer(data));
  }

  /** Whether this connection has room for another job of some function it can do. */
  get hasRoom(): boolean {
    for (const ability of this.order) if (ability.active < ability.capacity) return true;
    return false;
  }

  /** Whether this connection holds the job now. */
  holds(job: string | Assignment): boolean {
    return this.lookup(job) !== undefined;
  }

  /**
   * The connection ends: held jobs go back to their queues (or fail after `maxRetries`),
   * its submissions are detached, its registrations dropped. Idempotent.
   */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.engine.disconnect(this);
    this.onClose(this);
  }

  // ------------------------------------------------------------------ engine callbacks

  /** @internal */
  wake(): void {
    this.sink?.wake();
  }

  /** @internal */
  revoke(handle: string, reason: FailReason): void {
    this.sink?.revoked?.(handle, reason);
  }

  private lookup(job: string | Assignment): Job | undefined {
    return typeof job === 'string'
      ? this.engine.held(this, job)
      : this.engine.heldByAssignment(this, job);
  }

  private heldJob(job: string | Assignment): Job {
    const held = this.lookup(job);
    if (held === undefined) throw new JobNotFoundError(typeof job === 'string' ? job : job.handle);
    return held;
  }

  private assertOpen(): void {
    if (this.closedFlag) throw new ConnectionClosedError();
  }
}
