import type { Connection, SubmitOutcome, SubmitRequest } from './connection.js';
import { InvalidArgumentError, SubmissionAbortedError } from './errors.js';
import type { JobListener } from './internal/job.js';
import { TaskListener, TaskSet } from './internal/task-set.js';
import {
  checkArray,
  checkName,
  checkOptions,
  checkPriority,
  refuseKey,
  type KnownKeys,
} from './internal/checks.js';
import { SUBMIT_KEYS, TASK_KEYS } from './internal/option-keys.js';
import type { JobOutcome, JobStatus, PayloadInput, UniqueJobStatus } from './types.js';

export type { ClientOptions, SubmitOptions, SubmittedJob, Task } from './client-types.js';
import type { ClientOptions, SubmitOptions, SubmittedJob, Task } from './client-types.js';
import { BackgroundJob, ClientJob } from './internal/sent-jobs.js';

/** Anything that accepts job submissions: the in-process client and the TCP client. */
export interface JobClient {
  submit(
    functionName: string,
    payload?: PayloadInput,
    options?: SubmitOptions,
  ): Promise<SubmittedJob>;
  /** Submits a foreground job and waits for its result. */
  run(functionName: string, payload?: PayloadInput, options?: SubmitOptions): Promise<Buffer>;
  /** Submits a set of jobs at once; resolves when all are accepted. */
  submitAll(tasks: readonly Task[]): Promise<SubmittedJob[]>;
  /** Runs a set of foreground jobs (a task set); resolves with their results in order. */
  runAll(tasks: readonly Task[]): Promise<Buffer[]>;
  status(handle: string): Promise<JobStatus>;
  statusByUnique(unique: string, functionName?: string): Promise<UniqueJobStatus>;
  close(): void;
}

/**
 * Submit options or a task: an object whose keys are all `known`. Its own loop rather than
 * `checkOptions`'s, as it runs on every submit (see `refuseKey`).
 */
function checkSubmitOptions(options: object, what: string, known: KnownKeys): void {
  checkOptions(options, what);
  const task = known === TASK_KEYS;
  for (const key in options) if (!submitKey(key, task)) refuseKey(key, what, known);
}

/**
 * `SUBMIT_KEYS` (or `TASK_KEYS`) as a switch: V8 compiles it to a few string compares,
 * where a look-up in the key list was a slow property access per key, about 280
 * instructions a task-set job (decision 33). A test holds the two to the same keys. The
 * compares run in order: a task's two keys come first, as every task has them, then the
 * option of background jobs.
 */
export function submitKey(key: string, task: boolean): boolean {
  switch (key) {
    case 'functionName':
    case 'payload':
      return task;
    case 'background':
    case 'priority':
    case 'unique':
    case 'runAt':
    case 'delay':
    case 'attempts':
    case 'backoff':
      return true;
    case 'signal':
    case 'transaction':
      return !task;
    default:
      return false;
  }
}

/** One task of a set: an object (its options), not left out. */
function checkTask(task: Task): void {
  if (task === undefined) throw new InvalidArgumentError('a task must be an object');
  checkSubmitOptions(task, 'a task', TASK_KEYS);
}

type SentJob = ClientJob | BackgroundJob;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** A rejected promise for something thrown synchronously. */
function rejected(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}

/** A submission's own retry policy, or undefined: the function's policy applies. */
function retryOf(options: SubmitOptions): SubmitRequest['retry'] {
  return options.attempts === undefined && options.backoff === undefined
    ? undefined
    : { attempts: options.attempts ?? 1, backoff: options.backoff };
}

/** Converts `runAt`/`delay` into ms on the server's clock, or 0 for "now". */
export function resolveRunAt(options: SubmitOptions, now: () => number): number {
  if (options.runAt !== undefined && options.delay !== undefined) {
    throw new InvalidArgumentError('give runAt or delay, not both');
  }
  if (options.delay !== undefined) {
    if (!Number.isFinite(options.delay) || options.delay < 0) {
      throw new InvalidArgumentError('delay must be a finite number of ms ≥ 0');
    }
    return now() + options.delay;
  }
  if (options.runAt === undefined) return 0;
  const at = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
  if (!Number.isFinite(at)) throw new InvalidArgumentError('runAt must be a valid time');
  return at;
}

/**
 * Where a client's submissions go: a connection of the in-process server, or the TCP
 * client's cluster of connections. Mirrors the client half of {@link Connection}.
 */
export interface SubmitTarget {
  /** Submits; a foreground submission's listener receives the job's updates. */
  submit(request: SubmitRequest, listener?: JobListener): SubmitOutcome | Promise<SubmitOutcome>;
  /** Stops delivering a job's updates to `listener` (an abandoned submission). */
  detach(handle: string, listener: JobListener): void;
  status(handle: string): JobStatus | Promise<JobStatus>;
  statusByUnique(unique: string, functionName?: string): UniqueJobStatus | Promise<UniqueJobStatus>;
  close(): void;
}

/**
 * A client over any {@link SubmitTarget}: the submit variants, task sets, results, events
 * and status queries that the in-process and the TCP client share.
 */
export class ClientBase implements JobClient {
  private readonly connection: SubmitTarget;
  private readonly exceptions: boolean;
  private readonly now: () => number;
  /** @internal Created by `server.client()` or `createClient()`. */
  constructor(target: SubmitTarget, now: () => number, options: ClientOptions = {}) {
    this.connection = target;
    this.exceptions = options.exceptions ?? true;
    this.now = now;
  }

  submit(
    functionName: string,
    payload?: PayloadInput,
    options: SubmitOptions = {},
  ): Promise<SubmittedJob> {
    try {
      checkSubmitOptions(options, 'submit options', SUBMIT_KEYS);
      const sent = this.send(functionName, payload, options, undefined);
      return isPromise(sent) ? sent : Promise.resolve(sent);
    } catch (error) {
      return rejected(error);
    }
  }

  run(functionName: string, payload?: PayloadInput, options: SubmitOptions = {}): Promise<Buffer> {
    try {
      checkSubmitOptions(options, 'submit options', SUBMIT_KEYS);
      const sent = this.send(functionName, payload, options, false, true);
      // Accepted at once (the usual case): the result is the only promise made.
      return isPromise(sent) ? sent.then((job) => job.result) : sent.result;
    } catch (error) {
      return rejected(error);
    }
  }

  /**
   * Submits `options` (checked by the caller: submit options, or a task); throws
   * synchronously on a refusal. Returns the job when it was accepted at once, or a Promise
   * while an asynchronous store writes it. `hidden`: the job is not handed to the
   * application (`run`), so its handle may be read later, if ever.
   */
  private send(
    functionName: string,
    payload: PayloadInput | undefined,
    options: SubmitOptions,
    forcedBackground: boolean | undefined,
    hidden = false,
  ): SentJob | Promise<SentJob> {
    // Here for every transport: the TCP client would send an unknown one at normal priority.
    checkPriority(options.priority);
    const requestedBackground = forcedBackground ?? options.background;
    const runAt = resolveRunAt(options, this.now);
    const delayed = options.runAt !== undefined || options.delay !== undefined;
    if (delayed && requestedBackground === false) {
      throw new InvalidArgumentError('a delayed job (runAt, delay) must be a background job');
    }
    const background = requestedBackground ?? (delayed || options.transaction !== undefined);
    if (options.transaction !== undefined && !background) {
      throw new InvalidArgumentError('a job in a transaction must be a background job');
    }
    const signal = options.signal;
    // By its shape, not instanceof: a signal from another realm (a vm context) is one too.
    if (
      signal !== undefined &&
      (typeof signal?.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')
    ) {
      throw new InvalidArgumentError('signal must be an AbortSignal');
    }
    if (signal?.aborted) throw new SubmissionAbortedError(signal.reason);
    const unique = options.unique ?? '';
    const request = {
      functionName,
      payload,
      unique,
      priority: options.priority,
      background,
      runAt,
      retry: retryOf(options),
      ...(options.transaction === undefined ? {} : { transaction: options.transaction }),
    };
    if (background) {
      const job = new BackgroundJob(functionName, unique);
      const outcome = this.connection.submit(request);
      if (outcome instanceof Promise) {
        return outcome.then((accepted) => {
          job.bind(accepted);
          return job;
        });
      }
      job.bind(outcome);
      return job;
    }
    const job = new ClientJob(functionName, unique, this.exceptions);
    const outcome = this.connection.submit(request, job);
    if (outcome instanceof Promise)
      return outcome.then((accepted) => this.accepted(job, accepted, signal, hidden));
    return this.accepted(job, outcome, signal, hidden);
  }

  private accepted(
    job: ClientJob,
    outcome: SubmitOutcome,
    signal: AbortSignal | undefined,
    hidden: boolean,
  ): ClientJob {
    job.bind(outcome, hidden);
    if (signal !== undefined)
      job.watchAbort(signal, () => this.connection.detach(outcome.handle, job));
    return job;
  }

  /**
   * Submits a set of jobs in one go (PHP's `addTask`/`addTaskBackground` then `runTasks`,
   * BullMQ's `addBulk`): one promise for the set instead of one per job. Resolves when every
   * job is accepted; rejects with the first refusal (jobs accepted before it stay accepted).
   */
  submitAll(tasks: readonly Task[]): Promise<SubmittedJob[]> {
    let jobs: (SentJob | Promise<SentJob>)[];
    let waiting = false;
    try {
      checkArray(tasks, 'tasks');
      jobs = new Array<SentJob | Promise<SentJob>>(tasks.length);
      for (let i = 0; i < tasks.length; i++) {
        const task = tasks[i]!;
        checkTask(task);
        const sent = this.send(task.functionName, task.payload, task, task.background);
        if (isPromise(sent)) waiting = true;
        jobs[i] = sent;
      }
    } catch (error) {
      return rejected(error);
    }
    return waiting
      ? Promise.all(jobs.map((job) => Promise.resolve(job)))
      : Promise.resolve(jobs as SentJob[]);
  }

  /**
   * Runs a set of foreground jobs and resolves with their results, in the order given; rejects
   * with the first failure (as `Promise.all`). One promise for the whole set.
   */
  runAll(tasks: readonly Task[]): Promise<Buffer[]> {
    try {
      checkArray(tasks, 'tasks');
    } catch (error) {
      return rejected(error);
    }
    return new Promise<Buffer[]>((resolve, reject) => {
      const set = new TaskSet(tasks.length, resolve, reject);
      if (tasks.length === 0) {
        resolve([]);
        return;
      }
      try {
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i]!;
          checkTask(task);
          if (task.runAt !== undefined || task.delay !== undefined || task.background === true) {
            throw new InvalidArgumentError('runAll runs foreground jobs only');
          }
          checkPriority(task.priority);
          const listener = new TaskListener(set, i, this.exceptions);
          const outcome = this.connection.submit(
            {
              functionName: task.functionName,
              payload: task.payload,
              unique: task.unique ?? '',
              priority: task.priority,
              retry: retryOf(task),
            },
            listener,
          );
          if (outcome instanceof Promise) outcome.catch((error: unknown) => set.fail(error));
        }
      } catch (error) {
        set.fail(error);
      }
    });
  }

  status(handle: string): Promise<JobStatus> {
    try {
      // Checked here for every transport: over TCP a bad handle would otherwise be lost in
      // the per-server answers and read as "no server reachable".
      checkName(handle, 'job handle');
      return Promise.resolve(this.connection.status(handle));
    } catch (error) {
      return rejected(error);
    }
  }

  statusByUnique(unique: string, functionName?: string): Promise<UniqueJobStatus> {
    try {
      checkName(unique, 'unique id');
      return Promise.resolve(this.connection.statusByUnique(unique, functionName));
    } catch (error) {
      return rejected(error);
    }
  }

  /** Detaches every pending submission of this client (as a disconnect does). */
  close(): void {
    this.connection.close();
  }
}

/** The in-process client: submissions go straight into the server, no bytes involved. */
export class InProcessClient extends ClientBase {
  /** @internal Created by `server.client()`. */
  constructor(
    private readonly own: Connection,
    now: () => number,
    options: ClientOptions = {},
  ) {
    super(own, now, options);
  }

  /** How a background job ended, while it is kept (`JobServer.outcome`); else undefined. */
  async outcome(handle: string): Promise<JobOutcome | undefined> {
    return this.own.outcome(handle);
  }
}
