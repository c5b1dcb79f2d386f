import type { Gate } from './gate.js';
import type { FunctionLatencies } from './latency.js';
import type { Subscription } from 'rxjs';
import type { JobRecord } from '../store.js';
import type { Retries } from '../retry.js';
import type { AttemptError, FailReason, JobUpdate, Priority, QueueLimits } from '../types.js';
import type { ConnectionSink, JobListener, SubmitOutcome } from '../transport-types.js';

export type { ConnectionSink, JobListener } from '../transport-types.js';
import { fromBody, type Body } from './payload.js';
import { handleAfter, handleStart, makeHandle } from './handles.js';
import type { WokenNode } from './wake-deadlines.js';
import { Waiters } from './waiters.js';
import { deliver } from './deliver.js';
import { FunctionCounts } from './function-counts.js';
import { PRIORITY_NAMES, type PriorityIndex } from './priority.js';

export { PRIORITY_NAMES, priorityIndex, type PriorityIndex } from './priority.js';

/** What only some jobs have (see `Job.extra`). */
interface Extra {
  runAt: number;
  readonly reducer: string;
  readonly retry: Retries | null;
  /** The failed attempts so far (kept for the job's outcome). */
  failures: AttemptError[] | null;
  /** A handle given that is not `<prefix>:<seq>` of this run, or null. */
  readonly handle: string | null;
}

function newExtra(): Extra {
  return { runAt: 0, reducer: '', retry: null, failures: null, handle: null };
}

/**
 * Where `Job`'s state and stored flag sit in its bits, and the unit of its retries. Const
 * enums here and below: the build writes each use as its number, where a module constant
 * is a variable read and checked at every use, some 8 instructions (decision 33).
 */
const enum Bits {
  StateShift = 4,
  StateMask = 7 << StateShift,
  Stored = 0x80,
  RetryUnit = 256,
}

/** Life of a job inside the server. */
export const enum JobState {
  /** Accepted, waiting for the job store to confirm the write; not yet runnable. */
  Pending = 0,
  Queued = 1,
  Delayed = 2,
  Running = 3,
  Done = 4,
}

/**
 * What the engine keeps of one connection: its registrations, whether and why it sleeps,
 * and the heads of the intrusive lists of the jobs it holds and the submissions it waits
 * on. Only the engine changes it; a `Connection` holds one and shows read-only views.
 */
export class WorkerState implements WokenNode<WorkerState> {
  readonly abilities = new Map<string, Ability>();
  order: Ability[] = [];
  /** Where the next grab starts in `order` (functions take turns). */
  cursor = 0;
  sleeping = false;
  /** The function this connection was last woken for, until it grabs; it is then in the woken list. */
  wokenFor: FunctionEntry | null = null;
  wokenAt = 0;
  prevWoken: WorkerState | null = null;
  nextWoken: WorkerState | null = null;
  heldHead: RunInfo | null = null;
  heldCount = 0;
  attachedHead: Attachment | null = null;
  /**
   * The connection went away (its attachments were dropped): a submission answered later
   * (a shared queue's) attaches nothing to it.
   */
  gone = false;
  /** Who waits for `heldCount` to reach 0 (a graceful close of a transport). */
  private readonly emptyHandedWaiters = new Waiters();

  constructor(
    readonly id: number,
    private readonly sink: ConnectionSink | undefined,
  ) {}

  /** Resolves once the connection holds no job (at once if it holds none). */
  whenEmptyHanded(): Promise<void> {
    return this.heldCount === 0 ? Promise.resolve() : this.emptyHandedWaiters.wait();
  }

  /** The last held job was released. */
  emptyHanded(): void {
    this.emptyHandedWaiters.release();
  }

  /** The jobs this connection holds, as an array (safe to change the list while iterating). */
  heldJobs(): Job[] {
    const jobs: Job[] = [];
    for (let run = this.heldHead; run !== null; run = run.nextHeld) jobs.push(run.job);
    return jobs;
  }

  wake(): void {
    this.sink?.wake();
  }

  revoke(handle: string, reason: FailReason): void {
    this.sink?.revoked?.(handle, reason);
  }
}

/**
 * One assignment of a job to a worker: what the worker is handed (it implements the public
 * `Assignment`), and the job's state while held. It is also the node of the holder's list of
 * held jobs, so holding costs no hash-table work. A new one per assignment.
 */
export class RunInfo {
  numerator: number;
  denominator: number;
  timer: Subscription | null;
  prevHeld: RunInfo | null;
  nextHeld: RunInfo | null;
  /** The job's handle, made when first asked for (an in-process worker may never ask). */
  private handleText: string | null;
  /** The payload as a Buffer, made when first asked for (see `payload`). */
  private payloadBuffer: Buffer | null;
  readonly attempt: number;

  // Fields are set in the constructor, not by initialisers, and the payload is made out of
  // it: V8 then inlines it into the assignment, where a constructor that turned a string
  // body into a Buffer was too large to inline and went through the generic construct
  // stub, some 170 instructions a background job (decision 33).
  constructor(
    readonly job: Job,
    readonly holder: WorkerState,
    readonly ability: Ability,
    /** When the worker was handed the job (ms on the scheduler's clock). */
    readonly startedAt: number,
  ) {
    this.numerator = 0;
    this.denominator = 0;
    this.timer = null;
    this.prevHeld = null;
    this.handleText = null;
    this.payloadBuffer = null;
    this.attempt = job.retries + 1;
    const head = holder.heldHead;
    this.nextHeld = head;
    if (head !== null) head.prevHeld = this;
    holder.heldHead = this;
    holder.heldCount++;
  }

  get handle(): string {
    return (this.handleText ??= this.job.handle);
  }
  /** The same Buffer at every read (a small body is kept as a string: see payload.ts). */
  get payload(): Buffer {
    return (this.payloadBuffer ??= this.job.payload);
  }
  get functionName(): string {
    return this.job.fn.name;
  }
  get unique(): string {
    return this.job.unique;
  }
  get reducer(): string {
    return this.job.reducer;
  }
  get timeout(): number {
    return this.ability.timeout;
  }

  /** Leaves the holder's list. */
  unlink(): void {
    const holder = this.holder;
    if (this.prevHeld === null) holder.heldHead = this.nextHeld;
    else this.prevHeld.nextHeld = this.nextHeld;
    if (this.nextHeld !== null) this.nextHeld.prevHeld = this.prevHeld;
    this.prevHeld = this.nextHeld = null;
    if (--holder.heldCount === 0) holder.emptyHanded();
  }
}

/**
 * A connection's registration for one function. It is also the node of the function's list
 * of sleeping workers (a worker sleeps in the list of each function it has room for).
 */
export class Ability {
  /** Jobs of this function the connection holds now. */
  active = 0;
  prevSleeper: Ability | null = null;
  nextSleeper: Ability | null = null;
  asleep = false;

  constructor(
    readonly fn: FunctionEntry,
    readonly worker: WorkerState,
    /** Timeout of a job assigned through this registration, ms; 0 = none. */
    public timeout: number,
    /** How many jobs of this function the connection takes at once. */
    public capacity: number,
  ) {}
}

/** The sleeping workers of a function, in the order they fell asleep. */
export class SleeperList {
  head: Ability | null = null;
  tail: Ability | null = null;
  size = 0;

  add(ability: Ability): void {
    if (ability.asleep) return;
    ability.asleep = true;
    ability.prevSleeper = this.tail;
    ability.nextSleeper = null;
    if (this.tail === null) this.head = ability;
    else this.tail.nextSleeper = ability;
    this.tail = ability;
    this.size++;
  }

  remove(ability: Ability): void {
    if (!ability.asleep) return;
    ability.asleep = false;
    if (ability.prevSleeper === null) this.head = ability.nextSleeper;
    else ability.prevSleeper.nextSleeper = ability.nextSleeper;
    if (ability.nextSleeper === null) this.tail = ability.prevSleeper;
    else ability.nextSleeper.prevSleeper = ability.prevSleeper;
    ability.prevSleeper = ability.nextSleeper = null;
    this.size--;
  }
}

/**
 * One foreground submission attached to a job. It is a node of two lists: the job's
 * attachments (newest first) and its owner connection's attachments (for disconnects).
 *
 * It is also the `SubmitOutcome` of the submission that made its job, with the handle made
 * when first read: a task set never reads it unless a job fails, and making the string
 * (the seq turned into digits) is some 350 instructions, a tenth of a task-set job
 * (decision 33).
 */
export class Attachment implements SubmitOutcome {
  nextOfJob: Attachment | null;
  prevOfOwner: Attachment | null;
  nextOfOwner: Attachment | null;
  /** The job's handle once made (or given), kept for the submission's later updates. */
  private handleText: string | null;

  constructor(
    /** Moved only by a shared queue, to the job it claims for a watched one. */
    public job: Job,
    readonly listener: JobListener,
    readonly owner: WorkerState,
    /** The job's handle if made already; null: made when first read. */
    handle: string | null,
  ) {
    this.handleText = handle;
    this.prevOfOwner = null;
    this.nextOfJob = job.attachments;
    job.attachments = this;
    const head = owner.attachedHead;
    this.nextOfOwner = head;
    if (head !== null) head.prevOfOwner = this;
    owner.attachedHead = this;
  }

  get handle(): string {
    return (this.handleText ??= this.job.handle);
  }

  /** As a `SubmitOutcome`: only the submission that made the job returns its attachment. */
  get coalesced(): boolean {
    return false;
  }

  /**
   * Hands an update to the listener. A result goes to `completed` when the listener has it,
   * without the handle, which is then never made (see the class comment).
   */
  deliver(update: JobUpdate): void {
    const listener = this.listener;
    if (update.type === 'complete' && listener.completed !== undefined) {
      listener.completed(update);
    } else deliver(listener, this.handle, update);
  }

  /**
   * Takes the attachments of `owner` (only `listener`'s, when given) off `job`, keeping the
   * others in order; returns whether any are left.
   */
  static removeFrom(job: Job, owner: WorkerState, listener?: JobListener): boolean {
    let kept: Attachment | null = null;
    let last: Attachment | null = null;
    for (let a = job.attachments; a !== null;) {
      const next: Attachment | null = a.nextOfJob;
      if (a.owner === owner && (listener === undefined || a.listener === listener)) {
        a.unlinkOwner();
      } else {
        a.nextOfJob = null;
        if (last === null) kept = a;
        else last.nextOfJob = a;
        last = a;
      }
      a = next;
    }
    job.attachments = kept;
    return kept !== null;
  }

  /** Leaves its owner's list (the job's list is rebuilt by the caller). */
  unlinkOwner(): void {
    const owner = this.owner;
    if (this.prevOfOwner === null) {
      if (owner.attachedHead === this) owner.attachedHead = this.nextOfOwner;
    } else this.prevOfOwner.nextOfOwner = this.nextOfOwner;
    if (this.nextOfOwner !== null) this.nextOfOwner.prevOfOwner = this.prevOfOwner;
    this.prevOfOwner = this.nextOfOwner = null;
  }
}

/**
 * What a job is made of (`new Job`). The local queue fills one `JobDraft` per submission
 * rather than an object literal: the constructor is not inlined into `submit`, so a literal
 * would be one more allocation per job.
 */
export interface JobInit {
  readonly seq: number;
  readonly fn: FunctionEntry;
  readonly unique: string;
  readonly body: Body;
  readonly priority: PriorityIndex;
  readonly background: boolean;
  /** When it becomes runnable (ms on the scheduler's clock); 0 or absent: at once. */
  readonly runAt?: number;
  readonly reducer?: string;
  /** The handle it had (replayed, run again by hand); absent: `<prefix>:<seq>`. */
  readonly handle?: string | undefined;
  readonly retry?: Retries | null;
}

/** A reusable JobInit (see JobInit): filled, handed to `new Job`, filled again. */
export class JobDraft implements JobInit {
  seq = 0;
  fn!: FunctionEntry;
  unique = '';
  body: Body = '';
  priority: PriorityIndex = 1;
  background = false;
  runAt = 0;
  reducer = '';
  handle: string | undefined = undefined;
  retry: Retries | null = null;
}

/**
 * One job. Its fields are kept few (a million may be queued): progress and timers live in
 * `run` only while a worker holds the job, and small payloads are strings (see payload.ts).
 * A persisted job is its own {@link JobRecord}.
 */
export class Job implements JobRecord {
  // Fields are `declare`d, set by the constructor only: a plain field is also defined by an
  // initializer V8 calls before it, some 40 instructions a job (decision 33).

  /** Foreground submissions attached (newest first), or null. */
  declare attachments: Attachment | null;
  declare prev: Job | null;
  declare next: Job | null;
  declare run: RunInfo | null;

  /**
   * Six small fields in one slot (a slot is 8 bytes, and a million jobs may be queued):
   * priority index in bits 0-1, background in bit 2, whether the handle was made here from
   * the prefix and seq in bit 3, the state in bits 4-6, whether the store holds the job in
   * bit 7, and the retries above, as a multiple of 256. Only `+`, `-` and reading with `&`
   * (which keeps the low bits of any safe integer) touch it, so a count past 2^23 stays
   * exact.
   */
  declare private bits: number;
  /**
   * Only delayed, retried, map/reduce and per-job-policy jobs have one, and a job replayed
   * from a store written under another handle prefix.
   */
  declare private extra: Extra | null;

  declare readonly seq: number;
  declare readonly fn: FunctionEntry;
  declare readonly unique: string;
  declare readonly body: Body;

  /** A new job is pending: it is runnable once the queue places it (see `LiveJobs`). */
  constructor(init: JobInit) {
    const { seq, fn, handle } = init;
    this.attachments = null;
    this.prev = null;
    this.next = null;
    this.run = null;
    this.seq = seq;
    this.fn = fn;
    this.unique = init.unique;
    this.body = init.body;
    const runAt = init.runAt ?? 0;
    const reducer = init.reducer ?? '';
    const retry = init.retry ?? null;
    // A handle given (replayed, run again by hand) is kept only when it is not the one this
    // run would make.
    const own = handle !== undefined && handle !== makeHandle(fn.handlePrefix, seq) ? handle : null;
    this.bits =
      init.priority |
      (init.background ? 4 : 0) |
      (own === null ? 8 : 0) |
      (JobState.Pending << Bits.StateShift);
    this.extra =
      runAt !== 0 || reducer !== '' || retry !== null || own !== null
        ? { runAt, reducer, retry, failures: null, handle: own }
        : null;
  }

  /**
   * `<prefix>:<seq>`, made when asked for rather than kept: a string per queued job was a
   * sixth of its memory, and a job's handle is wanted only a few times in its life (its
   * submission's reply, its assignment, which keeps it once asked, and queries). A
   * replayed job keeps the handle it was given, whatever the prefix of this run.
   */
  get handle(): string {
    return this.madeHandle ? handleAfter(this.fn.handleStart, this.seq) : this.extra!.handle!;
  }

  get state(): JobState {
    return (this.bits & Bits.StateMask) >> Bits.StateShift;
  }
  set state(state: JobState) {
    this.bits = this.bits - (this.bits & Bits.StateMask) + (state << Bits.StateShift);
  }
  /** Times it was handed back after a lost worker or a failed attempt. */
  get retries(): number {
    return Math.floor(this.bits / Bits.RetryUnit);
  }
  set retries(retries: number) {
    this.bits = (this.bits & (Bits.RetryUnit - 1)) + retries * Bits.RetryUnit;
  }
  /** Whether the job store holds a record of this job (the job is its own record). */
  get stored(): boolean {
    return (this.bits & Bits.Stored) !== 0;
  }
  set stored(stored: boolean) {
    this.bits = this.bits - (this.bits & Bits.Stored) + (stored ? Bits.Stored : 0);
  }

  get priorityIndex(): PriorityIndex {
    return (this.bits & 3) as PriorityIndex;
  }
  get background(): boolean {
    return (this.bits & 4) !== 0;
  }
  /** Whether the handle is `<prefix>:<seq>` of this run's prefix (not a replayed one's). */
  get madeHandle(): boolean {
    return (this.bits & 8) !== 0;
  }
  /** When a delayed job becomes runnable (ms on the scheduler's clock), 0 for at once. */
  get runAt(): number {
    return this.extra?.runAt ?? 0;
  }
  /** A retry waits until `time`. */
  set runAt(time: number) {
    if (this.extra === null) this.extra = newExtra();
    this.extra.runAt = time;
  }
  /** The failed attempts so far, oldest first. */
  get failures(): readonly AttemptError[] | null {
    return this.extra?.failures ?? null;
  }
  /** Notes a failed attempt. */
  failed(error: AttemptError): void {
    ((this.extra ??= newExtra()).failures ??= []).push(error);
  }
  /** The job's own retry policy (in-process submissions), or null for its function's. */
  get retry(): Retries | null {
    return this.extra?.retry ?? null;
  }
  get reducer(): string {
    return this.extra?.reducer ?? '';
  }

  // JobRecord, for stores
  get id(): string {
    return this.handle;
  }
  get functionName(): string {
    return this.fn.name;
  }
  get priority(): Priority {
    return PRIORITY_NAMES[this.priorityIndex]!;
  }
  get payload(): Buffer {
    return fromBody(this.body);
  }
  /** Times handed to a worker: the lost attempts, and the one running now. */
  get attempts(): number {
    return this.state === JobState.Running ? this.retries + 1 : this.retries;
  }
}

/** An intrusive FIFO of jobs (through `job.prev`/`job.next`): O(1) at both ends and removal. */
export class JobList {
  head: Job | null = null;
  tail: Job | null = null;
  length = 0;

  pushBack(job: Job): void {
    job.prev = this.tail;
    job.next = null;
    if (this.tail === null) this.head = job;
    else this.tail.next = job;
    this.tail = job;
    this.length++;
  }

  pushFront(job: Job): void {
    job.next = this.head;
    job.prev = null;
    if (this.head === null) this.tail = job;
    else this.head.prev = job;
    this.head = job;
    this.length++;
  }

  remove(job: Job): void {
    if (job.prev === null) this.head = job.next;
    else job.prev.next = job.next;
    if (job.next === null) this.tail = job.prev;
    else job.next.prev = job.prev;
    job.prev = null;
    job.next = null;
    this.length--;
  }

  shift(): Job | null {
    const job = this.head;
    if (job !== null) this.remove(job);
    return job;
  }
}

/** A function: its three priority queues, its registered connections and its counters. */
export class FunctionEntry {
  readonly counts = new FunctionCounts();
  readonly queues: readonly [JobList, JobList, JobList] = [
    new JobList(),
    new JobList(),
    new JobList(),
  ];
  /** Live jobs: queued, delayed, pending and running. */
  total = 0;
  running = 0;
  /** Delayed jobs by priority (they count in `prioritystatus` like queued ones). */
  readonly delayed: [number, number, number] = [0, 0, 0];
  /** Registered connections. */
  readonly workers = new Set<WorkerState>();
  /** Registered connections that are asleep with room for a job of this function. */
  readonly sleepers = new SleeperList();
  /** Sleepers woken for this function that have not grabbed yet. */
  wakesPending = 0;
  limits: QueueLimits = { high: 0, normal: 0, low: 0 };
  /** Which of its outcomes are kept (the engine's cache of its policy), or -1: not known. */
  keeps = -1;
  /** Its pause and limits (the engine's, by name), or null when nothing holds it back. */
  gate: Gate | null = null;
  /** Its wait and run times, made at the first one measured (`measureTimings`). */
  latencies: FunctionLatencies | null = null;
  /** Jobs by unique id (non-empty uniques other than `-`). */
  readonly byUnique = new Map<string, Job>();
  /** Jobs submitted with the `-` unique, by payload key (see payload.ts). */
  readonly byPayload = new Map<string, Job>();

  /** `<prefix>:`, what the handles of its jobs start with (see `Job.handle`). */
  readonly handleStart: string;
  constructor(
    readonly name: string,
    readonly handlePrefix: string,
  ) {
    this.handleStart = handleStart(handlePrefix);
  }

  /** Runnable jobs waiting in the queues. */
  get queued(): number {
    return this.queues[0].length + this.queues[1].length + this.queues[2].length;
  }

  /** Whether the function holds nothing: no jobs and no workers. */
  get idle(): boolean {
    return this.total === 0 && this.workers.size === 0;
  }
}
