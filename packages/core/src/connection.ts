import { ConnectionClosedError, InvalidArgumentError, JobNotFoundError } from './errors.js';
import type { ServerParts } from './internal/parts.js';
import type { Assignment, SubmitOutcome, SubmitRequest } from './transport-types.js';
import { WorkerState, type Job, type JobListener } from './internal/job.js';
import { toBuffer } from './internal/payload.js';
import { heldByAssignment } from './internal/queries.js';
import { checkOptions } from './internal/checks.js';
import { CAN_DO_KEYS } from './internal/option-keys.js';
import type { JobOutcome, JobStatus, PayloadInput, UniqueJobStatus } from './types.js';

export type { CanDoOptions, ConnectionOptions } from './transport-types.js';
import type { CanDoOptions, ConnectionOptions } from './transport-types.js';
export type { Assignment, SubmitOutcome, SubmitRequest } from './transport-types.js';
export type { ConnectionSink, JobListener } from './internal/job.js';

/**
 * One connection to the job server: what a Gearman TCP connection, a thread of the pool or
 * an in-process client or worker is to the server. Like a gearmand connection it may both
 * submit jobs and work them. Every method maps to a Gearman request (reference §2).
 *
 * Methods that act on a job this connection holds throw {@link JobNotFoundError} when it
 * does not hold it (never held, finished, timed out, cancelled, or taken back).
 */
export class Connection {
  readonly id: number;
  readonly address: string;
  /** SET_CLIENT_ID; `-` until set. */
  clientId = '-';

  private readonly parts: ServerParts;
  /** The dispatcher's record of this connection: only the dispatcher changes it. */
  private readonly state: WorkerState;
  private readonly onClose: (connection: Connection) => void;
  private closedFlag = false;

  /** @internal Connections are opened with `server.connect()`. */
  constructor(
    parts: ServerParts,
    id: number,
    options: ConnectionOptions,
    onClose: (connection: Connection) => void,
  ) {
    this.parts = parts;
    this.id = id;
    this.address = options.address ?? 'in-process';
    this.state = new WorkerState(id, options.sink);
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The functions this connection can do, most recently registered first (as `workers`). */
  get functions(): string[] {
    return this.state.order.map((a) => a.fn.name).reverse();
  }

  /** Jobs this connection holds now. */
  get holding(): number {
    return this.state.heldCount;
  }

  /** Resolves once the connection holds no job: each one finished, failed or was taken back. */
  whenEmptyHanded(): Promise<void> {
    return this.state.whenEmptyHanded();
  }

  /** Whether the connection sent PRE_SLEEP and has not been woken since. */
  get sleeping(): boolean {
    return this.state.sleeping;
  }

  /** Foreground submissions of this connection still waiting for their job's outcome. */
  get waiting(): number {
    let count = 0;
    for (let a = this.state.attachedHead; a !== null; a = a.nextOfOwner) count++;
    return count;
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
    return this.parts.queue.submit(this.state, request, listener);
  }

  /** Stops delivering a job's updates to `listener` (an abandoned submission). */
  detach(handle: string, listener: JobListener): void {
    const job = this.parts.queue.byHandle(handle);
    if (job !== undefined) this.parts.dispatcher.detach(job, this.state, listener);
  }

  // The answers below are values from the local queue and Promises from a shared one (it
  // asks its backend): a transport replies when the answer is there, in order.

  /** GET_STATUS. */
  status(handle: string): JobStatus | Promise<JobStatus> {
    return this.parts.admin.status(handle);
  }

  /** How a background job ended, while its outcome is kept (geartrain's own; no packet). */
  outcome(handle: string): JobOutcome | undefined | Promise<JobOutcome | undefined> {
    return this.parts.admin.outcome(handle);
  }

  /** GET_STATUS_UNIQUE; give the function name for an exact answer. */
  statusByUnique(
    unique: string,
    functionName?: string,
  ): UniqueJobStatus | Promise<UniqueJobStatus> {
    return this.parts.admin.statusByUnique(unique, functionName);
  }

  // ------------------------------------------------------------------ worker side

  /** CAN_DO / CAN_DO_TIMEOUT. Registering again updates the options. */
  canDo(functionName: string, options: CanDoOptions = {}): void {
    this.assertOpen();
    checkOptions(options, 'canDo options', CAN_DO_KEYS);
    const timeout = options.timeout ?? 0;
    const capacity = options.capacity ?? Infinity;
    if (!(timeout >= 0) || !(capacity >= 1)) {
      throw new InvalidArgumentError('timeout must be ≥ 0 and capacity ≥ 1');
    }
    this.parts.dispatcher.canDo(this.state, functionName, timeout, capacity);
  }

  /** CANT_DO: jobs of that function held by this connection go back to the queue. */
  cantDo(functionName: string): void {
    this.parts.dispatcher.cantDo(this.state, functionName);
  }

  /** RESET_ABILITIES. */
  resetAbilities(): void {
    this.parts.dispatcher.resetAbilities(this.state);
  }

  /** GRAB_JOB*: the next job for this connection, or undefined (NO_JOB). */
  grab(): Assignment | undefined {
    if (this.closedFlag) return undefined;
    return this.parts.dispatcher.grab(this.state);
  }

  /** PRE_SLEEP: the sink's `wake` is called when work arrives (at once if there is some). */
  preSleep(): void {
    if (!this.closedFlag) this.parts.dispatcher.preSleep(this.state);
  }

  // The work* methods name the job by its handle (as on the wire) or by the Assignment that
  // `grab()` returned (in-process workers: no handle lookup).

  /** WORK_STATUS. */
  workStatus(job: string | Assignment, numerator: number, denominator: number): void {
    this.parts.dispatcher.workStatus(this.heldJob(job), numerator, denominator);
  }

  /** WORK_DATA. */
  workData(job: string | Assignment, data: PayloadInput): void {
    this.parts.dispatcher.workData(this.heldJob(job), 'data', toBuffer(data));
  }

  /** WORK_WARNING. */
  workWarning(job: string | Assignment, data: PayloadInput): void {
    this.parts.dispatcher.workData(this.heldJob(job), 'warning', toBuffer(data));
  }

  /** WORK_COMPLETE. */
  workComplete(job: string | Assignment, data?: PayloadInput): void {
    this.parts.dispatcher.workComplete(this.heldJob(job), toBuffer(data));
  }

  /**
   * WORK_FAIL. `thrown`: the error an in-process handler threw (a `WorkFail`), kept with the
   * job's outcome (its message, class name and stack); a transport has none to give.
   */
  workFail(job: string | Assignment, thrown?: unknown): void {
    this.parts.dispatcher.workFail(this.heldJob(job), thrown);
  }

  /** WORK_EXCEPTION. `thrown`: as for `workFail`, the error the handler threw. */
  workException(job: string | Assignment, data?: PayloadInput, thrown?: unknown): void {
    this.parts.dispatcher.workException(this.heldJob(job), toBuffer(data), thrown);
  }

  /**
   * Gives back a job this connection holds and never started: first in its queue again,
   * its attempt not counted (a foreground job nobody waits for any more is dropped). No
   * Gearman packet does this: it is for adapters (a shared queue's double gives back what a
   * node claimed and let go).
   */
  giveBack(job: string | Assignment): void {
    this.parts.dispatcher.giveBack(this.heldJob(job));
  }

  /** Whether this connection has room for another job of some function it can do. */
  get hasRoom(): boolean {
    for (const ability of this.state.order) if (ability.active < ability.capacity) return true;
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
    this.parts.dispatcher.disconnect(this.state);
    this.onClose(this);
  }

  private lookup(job: string | Assignment): Job | undefined {
    return typeof job === 'string'
      ? this.parts.dispatcher.held(this.state, job)
      : heldByAssignment(this.state, job);
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
