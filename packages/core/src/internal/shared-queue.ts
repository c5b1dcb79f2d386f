import type { Subscription } from 'rxjs';
import { ServerClosedError, InvalidArgumentError } from '../errors.js';
import type {
  AttemptEnd,
  AttemptReport,
  BackendSignals,
  ClaimedJob,
  NodeIdentity,
  QueueBackend,
  SharedSubmission,
} from '../queue-backend.js';
import type { FailReason, JobUpdate, QueueLimits } from '../types.js';
import type { SettingsRecord } from '../settings-types.js';
import type { SubmitOutcome, SubmitRequest } from '../transport-types.js';
import { described } from './attempt-error.js';
import type { ServerContext } from './context.js';
import {
  Job,
  JobState,
  priorityIndex,
  type FunctionEntry,
  type JobListener,
  type PriorityIndex,
  type WorkerState,
} from './job.js';
import { enqueue, finish } from './live-jobs.js';
import { SharedWrites } from './shared-writes.js';
import { ClaimPace } from './claim-pace.js';
import { sharedSubmissionOf } from './shared-submission.js';
import { ForegroundWatches } from './shared-foreground.js';
import { LocalQueue } from './local-queue.js';
import { toBody } from './payload.js';
import type { JobQueue, QueueHost } from './queue.js';

export interface SharedQueueOptions {
  readonly backend: QueueBackend;
  /** How often this node's foreground jobs may be lost with their worker and run again. */
  readonly maxRetries: number;
  readonly node: NodeIdentity;
  /** Handles of the foreground jobs this node keeps are `<prefix>:<n>`. */
  readonly handlePrefix: string;
  readonly maxUniqueLength: number;
  readonly maxQueue: QueueLimits;
  /** Jobs claimed at most for one registration that takes any number at once. */
  readonly claimBatch: number;
  /** Backstop: how often a node with idle workers asks for jobs without being told (ms). */
  readonly pollInterval: number;
  /** How often the progress of running jobs is written, at most (ms). */
  readonly progressInterval: number;
  /** A report the backend refused as stale (the attempt was no longer this node's). */
  readonly onStale: (report: AttemptReport) => void;
  /** The backend failed; what failed is tried again. */
  readonly onError: (error: unknown, operation: string) => void;
}

/**
 * The shared queue (decision 33): jobs wait in a backend that several nodes share
 * (PostgreSQL; an in-memory double in tests), foreground ones too, which any node's worker
 * may run while this node's clients wait here for their updates (decision 36,
 * ForegroundWatches). It answers the dispatcher synchronously:
 * what the dispatcher takes is at hand, claimed in batches for this node's workers; a
 * turn's submissions and attempts' ends go to the backend together, each end fenced by the
 * attempt it belongs to.
 */
export class SharedQueue implements JobQueue {
  readonly local: LocalQueue;
  /** Background jobs claimed for this node, queued here or running, by handle. */
  private readonly claimed = new Map<string, Job>();
  private readonly backend: QueueBackend;
  private host!: QueueHost;
  private readonly writes: SharedWrites;
  /** Functions to claim for at the end of this turn. */
  private readonly wanted = new Set<FunctionEntry>();
  /** Jobs asked for and not answered yet, by function. */
  private readonly asked = new Map<FunctionEntry, number>();
  /**
   * Functions signalled while a claim for them was in flight: that claim may have run
   * before what was signalled committed, and is sent again if it came back short.
   */
  private readonly signalledWhileAsked = new Set<FunctionEntry>();
  /** The pace at which each function's claimed jobs end here (how many to hold ahead). */
  private readonly paces = new WeakMap<FunctionEntry, ClaimPace>();
  /** The foreground jobs this node's clients wait for. */
  private readonly watches: ForegroundWatches;
  /** Claimed jobs that other nodes wait for: their updates are passed on. */
  private readonly relayed = new Set<Job>();
  private poll: Subscription | null = null;
  /** The backend was closed: nothing more is sent. */
  private left = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: SharedQueueOptions,
  ) {
    this.backend = options.backend;
    this.writes = new SharedWrites(
      ctx,
      options.backend,
      {
        progressInterval: options.progressInterval,
        retryInterval: options.pollInterval,
        onStale: options.onStale,
        onError: options.onError,
        onReported: (report, outcome) => this.watches.reported(report.handle, report.end, outcome),
      },
      () => {
        if (this.wanted.size > 0) this.claim();
      },
    );
    this.local = new LocalQueue(ctx, {
      handlePrefix: options.handlePrefix,
      // This node's foreground jobs are lost with a worker as on the local queue: the
      // server's maxRetries bounds them too.
      maxRetries: options.maxRetries,
      maxUniqueLength: options.maxUniqueLength,
      maxQueue: options.maxQueue,
      store: null,
      onStoreError: () => undefined,
      onTickError: () => undefined,
      // The cluster's settings are put in force here once read (SharedAdmin); the backend
      // gates the claims by their pauses and limits.
      initialSettings: new Map(),
      gated: false,
      random: Math.random,
      retention: { completed: { count: 0 }, failed: { count: 0 } },
      outcomeDataLimit: 0,
      onBurstDrained: null,
    });
    this.watches = new ForegroundWatches(
      () => ++this.local.live.seq,
      // While the node closes too (its clients are told SHUTDOWN): until the backend is.
      (handle) => {
        if (!this.left) this.writes.unwatch(handle);
      },
    );
  }

  /**
   * Puts in force here a settings record another node changed (set by the shared admin,
   * which owns the rule; decision 35).
   */
  settingsChanged: (functionName: string, record: SettingsRecord | undefined) => void = () =>
    undefined;

  get functions() {
    return this.local.functions;
  }

  /** This node's identity on the queue. */
  get node(): NodeIdentity {
    return this.options.node;
  }

  attach(host: QueueHost): void {
    this.host = host;
    this.local.attach(host);
    this.watches.attach(host);
  }

  /** Connects to the backend and starts the backstop poll. */
  async open(): Promise<void> {
    const signals: BackendSignals = {
      waiting: (names) => this.signalled(names),
      revoked: (handle, attempt, reason) => this.revoked(handle, attempt, reason),
      event: (event) => {
        if (!this.ctx.events.observed) return;
        const { time: _time, ...rest } = event;
        this.ctx.emit(rest);
      },
      settings: (functionName, record) => this.settingsChanged(functionName, record),
      updates: (handle, updates) => {
        const running = this.claimed.get(handle);
        this.watches.updates(
          handle,
          updates,
          running !== undefined && running.state !== JobState.Done,
        );
      },
      relay: (handle) => {
        const job = this.claimed.get(handle);
        if (job !== undefined) this.relayed.add(job);
      },
      abilities: () => {
        const names: string[] = [];
        for (const fn of this.local.functions.byName.values()) {
          if (fn.workers.size > 0) names.push(fn.name);
        }
        return names;
      },
    };
    await this.backend.open(this.options.node, signals);
    this.writes.opened = true;
    const interval = this.options.pollInterval;
    const tick = (): void => {
      this.backstop();
      this.poll = this.ctx.scheduler.schedule(tick, interval);
    };
    this.poll = this.ctx.scheduler.schedule(tick, interval);
    // What was asked before the backend was open goes now.
    this.writes.queueFlush();
  }

  // ---------------------------------------------------------------------------------
  // Submitting

  submit(
    owner: WorkerState,
    request: SubmitRequest,
    listener: JobListener | undefined,
  ): SubmitOutcome | Promise<SubmitOutcome> {
    if (this.ctx.closing) throw new ServerClosedError();
    const submission = sharedSubmissionOf(request, this.options.maxUniqueLength, this.ctx.now());
    if (request.transaction !== undefined)
      return this.submitWithin(request.transaction, submission);
    if (!submission.foreground) return this.writes.submit(submission);
    // A foreground job waits in the backend too, for any node's worker; its clients wait
    // here (decision 36).
    return this.writes.submit(submission).then((outcome) =>
      this.watches.watch(
        outcome.handle,
        outcome.coalesced,
        {
          fn: this.local.functions.entry(submission.functionName),
          unique: submission.unique,
          priority: priorityIndex(submission.priority),
        },
        owner,
        listener,
        this.claimed.get(outcome.handle),
      ),
    );
  }

  /**
   * A submission written in the application's own transaction, on its connection: not
   * batched with this node's (their statement commits on its own), and acknowledged once
   * written; the job exists if that transaction commits.
   */
  private async submitWithin(
    transaction: unknown,
    submission: SharedSubmission,
  ): Promise<SubmitOutcome> {
    if (this.backend.submitWithin === undefined) {
      throw new InvalidArgumentError("this shared queue's backend takes no transaction");
    }
    const answer = await this.backend.submitWithin(transaction, submission);
    if ('error' in answer) throw answer.error;
    return { handle: answer.handle, coalesced: answer.coalesced };
  }

  abandoned(job: Job): void {
    // Claimed here and not started: given back, and unwatched in the same write (a claim in
    // between would take it again); dropped if no other node waits for it.
    if (this.claimed.get(job.handle) === job && job.state === JobState.Queued) {
      this.watches.forget(job);
      this.end(job, { kind: 'abandoned' });
      return;
    }
    if (!this.watches.abandoned(job)) this.local.abandoned(job);
  }

  // ---------------------------------------------------------------------------------
  // Handing out

  idle(worker: WorkerState): void {
    for (const ability of worker.order) {
      if (ability.active < ability.capacity) this.wanted.add(ability.fn);
    }
    if (this.wanted.size > 0) this.writes.queueFlush();
  }

  startable(fn: FunctionEntry): number {
    return this.local.startable(fn);
  }

  take(fn: FunctionEntry, priority: PriorityIndex): Job | null {
    const job = this.local.take(fn, priority);
    if (job !== null && this.claimed.get(job.handle) === job) {
      // One fewer at hand: claim more for the workers that will be free soon.
      this.wanted.add(fn);
      this.writes.queueFlush();
    }
    return job;
  }

  stampsStart(job: Job): boolean {
    return this.claimed.get(job.handle) !== job && this.local.stampsStart(job);
  }

  queuedAt(job: Job): number {
    return this.local.queuedAt(job);
  }

  byHandle(handle: string): Job | undefined {
    return this.claimed.get(handle) ?? this.watches.get(handle) ?? this.local.byHandle(handle);
  }

  // ---------------------------------------------------------------------------------
  // How attempts end

  /** A claimed job's progress is written to the backend (see SharedWrites.progress). */
  progress(job: Job): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.progress(job);
      return;
    }
    this.writes.progress(job);
    if (this.relayed.has(job)) {
      const { numerator, denominator } = job.run!;
      this.passOn(job, { type: 'status', numerator, denominator });
    }
  }

  /** A running job's data, warning or status: other nodes that wait for it are sent it. */
  passOn(job: Job, update: Extract<JobUpdate, { type: 'data' | 'warning' | 'status' }>): void {
    if (!this.relayed.has(job) || this.claimed.get(job.handle) !== job) return;
    // Copied: the data may be a view of a socket's read, and it is written later.
    const copy =
      update.type === 'status' ? update : { type: update.type, data: Buffer.from(update.data) };
    this.writes.relay({ handle: job.handle, attempt: job.retries + 1, update: copy });
  }

  complete(job: Job, data: Buffer): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.complete(job, data);
      return;
    }
    // Copied: the result may be a view of a socket's read, and it is written later.
    this.end(job, { kind: 'complete', data: Buffer.from(data) });
  }

  fail(job: Job, thrown?: unknown): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.fail(job, thrown);
      return;
    }
    this.end(job, { kind: 'fail', thrown: described(thrown) });
  }

  exception(job: Job, data: Buffer, thrown?: unknown): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.exception(job, data, thrown);
      return;
    }
    this.end(job, { kind: 'exception', data: Buffer.from(data), thrown: described(thrown) });
  }

  timedOut(job: Job): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.timedOut(job);
      return;
    }
    const holder = job.run!.holder;
    this.end(job, { kind: 'timeout' });
    this.host.revoke(holder, job.handle, 'TIMEOUT');
  }

  lost(job: Job): void {
    if (this.claimed.get(job.handle) !== job) {
      this.local.lost(job);
      return;
    }
    this.end(job, { kind: 'lost' });
  }

  giveBack(job: Job): void {
    if (this.claimed.get(job.handle) !== job) this.local.giveBack(job);
    else this.end(job, { kind: 'unclaimed' });
  }

  /** A claimed job's attempt ended here: its worker is free, the backend is told. */
  private end(job: Job, end: AttemptEnd): void {
    if (job.state === JobState.Running) this.host.release(job, Number.NaN);
    else job.fn.queues[job.priorityIndex].remove(job);
    finish(job);
    this.claimed.delete(job.handle);
    this.relayed.delete(job);
    let pace = this.paces.get(job.fn);
    if (pace === undefined) this.paces.set(job.fn, (pace = new ClaimPace()));
    pace.ended(this.ctx.now());
    this.writes.forget(job);
    this.writes.report({ handle: job.handle, attempt: job.retries + 1, end });
    this.wanted.add(job.fn);
  }

  // ---------------------------------------------------------------------------------
  // The backend's answers and signals

  /** Claims, for each wanted function, what its workers here can take soon. */
  private claim(): void {
    const demand = new Map<string, number>();
    const fns: FunctionEntry[] = [];
    for (const fn of this.wanted) {
      const room = this.room(fn);
      const held = fn.queued + (this.asked.get(fn) ?? 0);
      const want = room - held;
      // While at least half its room is at hand or asked for, a function waits to refill in
      // one claim: a worker that takes one job a turn (over TCP) would otherwise send a claim
      // statement per job (issue 31's cluster bench: 750 jobs/s with 4 libgearman workers).
      if (want <= 0 || (held > 0 && want < room / 2)) continue;
      demand.set(fn.name, want);
      fns.push(fn);
      this.asked.set(fn, (this.asked.get(fn) ?? 0) + want);
    }
    this.wanted.clear();
    if (demand.size === 0 || this.ctx.closing) return;
    this.writes.track(this.backend.claim(demand)).then(
      (jobs) => {
        for (const fn of fns) this.asked.set(fn, (this.asked.get(fn) ?? 0) - demand.get(fn.name)!);
        this.claimedJobs(jobs);
        this.claimAgainIfShort(fns, demand, jobs);
      },
      (error: unknown) => {
        for (const fn of fns) {
          this.asked.delete(fn);
          this.signalledWhileAsked.delete(fn);
        }
        this.options.onError(error, 'claim');
      },
    );
  }

  /**
   * A claim that came back short for a function signalled meanwhile (a retry's write, another
   * node's submission, committed after the claim's snapshot) is sent again: the signal found
   * the claim in flight and asked for nothing, and the jobs would otherwise wait for the
   * backstop poll.
   */
  private claimAgainIfShort(
    fns: readonly FunctionEntry[],
    demand: ReadonlyMap<string, number>,
    jobs: readonly ClaimedJob[],
  ): void {
    for (const fn of fns) {
      if (!this.signalledWhileAsked.delete(fn)) continue;
      let got = 0;
      for (const job of jobs) if (job.functionName === fn.name) got++;
      if (got < demand.get(fn.name)!) this.wanted.add(fn);
    }
    if (this.wanted.size > 0) this.writes.queueFlush();
  }

  /**
   * How many jobs of `fn` this node holds at most, running or at hand: what its workers can
   * run at once (each registration capped), and what they finish soon at their pace.
   */
  private room(fn: FunctionEntry): number {
    let room = 0;
    const cap = this.options.claimBatch;
    for (const worker of fn.workers) {
      const ability = worker.abilities.get(fn.name);
      if (ability !== undefined) room += Math.min(ability.capacity, cap);
    }
    if (room === 0) return -fn.running;
    return room + (this.paces.get(fn)?.ahead(this.ctx.now()) ?? 0) - fn.running;
  }

  private claimedJobs(jobs: readonly ClaimedJob[]): void {
    const woken = new Set<FunctionEntry>();
    for (const claimed of jobs) {
      const fn = this.local.functions.entry(claimed.functionName);
      const job = new Job({
        // Numbered with the local jobs, so that no two jobs here share a seq.
        seq: ++this.local.live.seq,
        fn,
        unique: claimed.unique,
        body: toBody(claimed.payload, true),
        priority: priorityIndex(claimed.priority),
        // Whatever its kind, its end goes to the backend, which decides what follows.
        background: true,
        reducer: claimed.reducer,
        handle: claimed.handle,
      });
      job.retries = claimed.attempt - 1;
      if (claimed.relayed) this.relayed.add(job);
      if (this.ctx.closing) {
        // Claimed as this node closes: given back at once, the attempt not counted.
        this.writes.report({
          handle: claimed.handle,
          attempt: claimed.attempt,
          end: { kind: 'unclaimed' },
        });
        continue;
      }
      this.claimed.set(claimed.handle, job);
      this.watches.claimed(job);
      enqueue(job);
      woken.add(fn);
    }
    for (const fn of woken) this.host.waiting(fn);
  }

  /**
   * Another node submitted, or jobs came due: claim for the functions whose workers here have
   * room, asleep or not (`claim` asks for that room only). A worker awake with room is about
   * to ask (it was woken, or it polls): claiming for sleepers only would leave it the jobs at
   * hand while a job of a higher priority waits in the backend.
   */
  private signalled(names: readonly string[] | null): void {
    if (this.ctx.closing) return;
    const functions = this.local.functions;
    const want = (fn: FunctionEntry) => {
      if (fn.workers.size === 0) return;
      this.wanted.add(fn);
      if ((this.asked.get(fn) ?? 0) > 0) this.signalledWhileAsked.add(fn);
    };
    if (names === null) {
      for (const fn of functions.byName.values()) want(fn);
    } else {
      for (const name of names) {
        const fn = functions.get(name);
        if (fn !== undefined) want(fn);
      }
    }
    if (this.wanted.size > 0) this.writes.queueFlush();
  }

  /** The backstop poll: functions with room ask even when nobody said there is work. */
  private backstop(): void {
    this.signalled(null);
  }

  /** The backend took a job of this node's back (cancelled, or its lease ran out). */
  private revoked(handle: string, attempt: number, reason: FailReason): void {
    const job = this.claimed.get(handle);
    if (job === undefined || job.retries + 1 !== attempt) return;
    this.claimed.delete(handle);
    this.relayed.delete(job);
    this.writes.forget(job);
    if (job.state === JobState.Running) {
      const holder = job.run!.holder;
      this.host.release(job, Number.NaN);
      this.host.revoke(holder, handle, reason);
    } else {
      job.fn.queues[job.priorityIndex].remove(job);
    }
    finish(job);
    // Its clients here are told now; the others by the backend. Taken back for any other
    // reason (a lease run out), it runs again: they wait on.
    if (reason === 'CANCELLED') this.watches.cancelled(handle);
  }

  // ---------------------------------------------------------------------------------
  // Shutdown

  beginClose(): void {
    this.poll?.unsubscribe();
    this.poll = null;
    // Claimed jobs no worker started go back at once, their attempts not counted.
    for (const job of [...this.claimed.values()]) {
      if (job.state === JobState.Queued) this.end(job, { kind: 'unclaimed' });
    }
    this.local.beginClose();
  }

  runningJobs(): Job[] {
    return [
      ...this.local.runningJobs(),
      ...[...this.claimed.values()].filter((job) => job.state === JobState.Running),
    ];
  }

  failWaitingForeground(): void {
    this.watches.failWaiting((job) => this.claimed.get(job.handle) === job);
    this.local.failWaitingForeground();
  }

  /**
   * At the end of a shutdown's deadline: running jobs are given back as a lost worker's
   * (the attempt started, and counts, as the suite's "node closed mid-job" case says);
   * `unclaimed` is for claims no worker started.
   */
  abortRunning(): void {
    for (const job of [...this.claimed.values()]) {
      if (job.state !== JobState.Running) continue;
      const holder = job.run!.holder;
      this.end(job, { kind: 'lost' });
      this.host.revoke(holder, job.handle, 'SHUTDOWN');
    }
    // Their clients here are told, as those of jobs that waited elsewhere were at the start.
    this.watches.failWaiting(() => false);
    this.local.abortRunning();
  }

  /** Writes what is left and leaves the backend. */
  async close(): Promise<void> {
    await this.writes.close();
    this.left = true;
    await this.backend.close();
  }

  stopTimers(): void {
    this.poll?.unsubscribe();
    this.writes.stopTimers();
    this.local.stopTimers();
  }
}
