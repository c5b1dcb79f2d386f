// One node's backend on a queue double (queue-double.ts): its claims are connections of the
// double's server, its foreground submissions one client connection of it.
import type {
  JobFilter,
  JobInfo,
  JobServer,
  JobUpdate,
  NodeInfo,
  OutcomeFilter,
  ScheduleOptions,
  SettingsRecord,
} from '@geartrain/core';
import type {
  AttemptReport,
  BackendSignals,
  ClaimedJob,
  Connection,
  JobListener,
  NodeIdentity,
  ProgressReport,
  QueueBackend,
  RelayedUpdate,
  ReportOutcome,
  SharedSubmission,
  SubmitAnswer,
  ThrownError,
} from '@geartrain/core/transport';
import { settingsChangesOf } from '@geartrain/core/transport';
import type { JobEvent } from '@geartrain/core';
import type { SchedulerLike } from 'rxjs';
import { roundTrip } from './round-trips.js';

/** What a node asks of its queue double. */
export interface DoubleQueue {
  closed(): void;
  owns(scheduleId: string): void;
  /** A node saved a function's settings record: the others are told. */
  settingsSaved(functionName: string, record: SettingsRecord): void;
  /** Whether another node waits for a job's updates. */
  watchedElsewhere(handle: string): boolean;
  /** This node began to wait for a job: the node that runs it passes on its updates. */
  watched(handle: string): void;
  readonly timingOut: Set<string>;
  /** The connection of the keepers (see `DoubleNode.keep`), and the jobs they keep. */
  keeper(): Connection;
  readonly kept: Set<string>;
  /** Every open node, as `nodes()` lists them. */
  nodes(): Omit<NodeInfo, 'self'>[];
  /** The id of the node that claimed a job, if any. */
  holder(handle: string): string | undefined;
}

/** An Error again, from what a node sent of one its handler threw. */
function thrownOf(thrown: ThrownError | null): Error | undefined {
  if (thrown === null) return undefined;
  const error = new Error(thrown.message);
  error.name = thrown.name;
  error.stack = thrown.stack;
  return error;
}

/** What waits, for good, on a foreground job a background submission joined. */
const KEEPER: JobListener = { exceptions: true, update: () => undefined };

/** One claim: the connection that holds the job for its node. */
interface Claim {
  readonly connection: Connection;
  readonly attempt: number;
}

export class DoubleNode implements QueueBackend {
  private signals: BackendSignals | null = null;
  private identity: NodeIdentity | null = null;
  private readonly claims = new Map<string, Claim>();
  /** One sleeping connection per function asked for: it wakes when that function has jobs. */
  private readonly listeners = new Map<string, Connection>();
  private closed = false;

  constructor(
    private readonly queue: JobServer,
    private readonly scheduler: SchedulerLike,
    private readonly double: DoubleQueue,
  ) {}

  /** The client connection of this node's foreground submissions. */
  private client: Connection | null = null;
  /** The listener of each job this node waits for, on `client`. */
  private readonly listening = new Map<string, JobListener>();

  /** Whether this node waits for the job's updates. */
  watches(handle: string): boolean {
    return this.listening.has(handle);
  }

  /** Another node began to wait for a job: if this node runs it, it passes its updates on. */
  watchedBy(handle: string): void {
    const signals = this.signals;
    if (signals === null || this.closed || !this.claims.has(handle)) return;
    void this.later(() => signals.relay(handle)).catch(() => undefined);
  }

  /** A listener that tells this node, a turn later, of a job's updates. */
  private listener(): JobListener {
    const listener: JobListener = {
      exceptions: true,
      update: (handle: string, update: JobUpdate) => {
        // What this node wrote itself (its relays, its reports): its clients heard it from
        // its worker, as a database's reader skips the rows a node wrote.
        if (this.listening.get(handle) !== listener || this.writing) return;
        if (update.type === 'fail' && this.double.timingOut.has(handle)) {
          update = { type: 'fail', reason: 'TIMEOUT' };
        }
        const end =
          update.type === 'complete' || update.type === 'fail' || update.type === 'exception';
        if (end) this.listening.delete(handle);
        const signals = this.signals;
        void this.later(() => signals?.updates(handle, [update])).catch(() => undefined);
      },
    };
    return listener;
  }

  /** Another node saved a function's settings: told a turn later, as a notification. */
  settingsChanged(functionName: string, record: SettingsRecord): void {
    const signals = this.signals;
    if (signals === null || this.closed) return;
    void this.later(() => signals.settings(functionName, record)).catch(() => undefined);
  }

  /** Answers a turn later, as a round trip to a database would (round-trips.ts). */
  private later<T>(answer: () => T | Promise<T>): Promise<T> {
    return roundTrip(() => {
      if (this.closed) throw new Error('the node left the shared queue');
      return answer();
    });
  }

  /** Whether this node holds a claim of the job. */
  holds(handle: string): boolean {
    return this.claims.has(handle);
  }

  get id(): string | undefined {
    return this.identity?.id;
  }

  /** A job as the queue's server lists it, with the node that claimed it. */
  private withNode(info: JobInfo): JobInfo {
    const node = this.double.holder(info.handle);
    return node === undefined ? info : { ...info, node };
  }

  /** This node as `nodes()` lists it (none before it opened or after it closed). */
  describe(): Omit<NodeInfo, 'self'>[] {
    const identity = this.identity;
    if (identity === null || this.closed) return [];
    return [
      {
        ...identity,
        startedAt: this.openedAt,
        heartbeatAt: Date.now(),
        running: this.claims.size,
        functions: [...(this.signals?.abilities() ?? [])],
      },
    ];
  }

  nodes() {
    return this.later(() => this.double.nodes());
  }

  private openedAt = 0;

  open(node: NodeIdentity, signals: BackendSignals): Promise<void> {
    this.openedAt = Date.now();
    this.identity = node;
    this.signals = signals;
    return this.later(() => undefined);
  }

  async close(): Promise<void> {
    await this.later(() => undefined).catch(() => undefined);
    this.kill();
  }

  kill(): void {
    if (this.closed) return;
    this.closed = true;
    for (const claim of this.claims.values()) claim.connection.close();
    this.claims.clear();
    for (const listener of this.listeners.values()) listener.close();
    this.listeners.clear();
    // Its clients are gone with it: jobs only they waited for are dropped.
    this.client?.close();
    this.client = null;
    this.listening.clear();
    this.double.closed();
  }

  submit(batch: readonly SharedSubmission[]): Promise<readonly SubmitAnswer[]> {
    return this.later(async () => {
      const connection = this.queue.connect({ address: this.identity?.name ?? 'node' });
      const answers: SubmitAnswer[] = [];
      for (const s of batch) {
        try {
          if (s.foreground) answers.push(await this.submitForeground(s));
          else {
            const answer = await this.submitOn(connection, s);
            if (answer.coalesced) await this.keep(s, answer.handle);
            answers.push(answer);
          }
        } catch (error) {
          answers.push({ error: error as Error });
        }
      }
      connection.close();
      return answers;
    });
  }

  /**
   * A background submission joined a foreground job: the job is kept when its clients leave
   * (decision 36), where the queue's server would drop it (its first submission's kind is
   * the job's): a keeper waits for it, for good.
   */
  private async keep(s: SharedSubmission, handle: string): Promise<void> {
    const info = await Promise.resolve(this.queue.job(handle));
    if (info === undefined || info.background) return;
    if (this.double.kept.has(handle)) return;
    this.double.kept.add(handle);
    await this.submitOn(this.double.keeper(), { ...s, foreground: true }, KEEPER);
  }

  private async submitOn(
    connection: Connection,
    s: SharedSubmission,
    listener?: JobListener,
  ): Promise<{ handle: string; coalesced: boolean }> {
    const outcome = await connection.submit(
      {
        functionName: s.functionName,
        payload: s.payload,
        unique: s.unique,
        priority: s.priority,
        background: !s.foreground,
        runAt: s.delay > 0 ? this.scheduler.now() + s.delay : 0,
        reducer: s.reducer,
        ...(s.retry === null ? {} : { retry: s.retry }),
      },
      listener,
    );
    return { handle: outcome.handle, coalesced: outcome.coalesced };
  }

  /** On this node's client connection: the node waits for the job's updates (once). */
  private async submitForeground(s: SharedSubmission): Promise<SubmitAnswer> {
    this.client ??= this.queue.connect({ address: this.identity?.name ?? 'node' });
    const listener = this.listener();
    const answer = await this.submitOn(this.client, s, listener);
    if (this.listening.has(answer.handle)) {
      // This node waits already: one listener a node.
      this.client.detach(answer.handle, listener);
    } else {
      this.listening.set(answer.handle, listener);
      this.double.watched(answer.handle);
    }
    return answer;
  }

  unwatch(handles: readonly string[]): Promise<void> {
    return this.later(() => {
      for (const handle of handles) {
        const listener = this.listening.get(handle);
        if (listener === undefined) continue;
        this.listening.delete(handle);
        this.client?.detach(handle, listener);
      }
    });
  }

  relay(batch: readonly RelayedUpdate[]): Promise<void> {
    return this.later(() =>
      this.written(() => {
        for (const { handle, attempt, update } of batch) {
          const claim = this.claims.get(handle);
          if (claim === undefined || claim.attempt !== attempt) continue;
          if (update.type === 'status') {
            claim.connection.workStatus(handle, update.numerator, update.denominator);
          } else if (update.type === 'data') claim.connection.workData(handle, update.data);
          else claim.connection.workWarning(handle, update.data);
        }
      }),
    );
  }

  /** While this node writes (relays, reports): its own listener skips what it hears. */
  private writing = false;

  private written<T>(write: () => T): T {
    this.writing = true;
    try {
      return write();
    } finally {
      this.writing = false;
    }
  }

  claim(demand: ReadonlyMap<string, number>): Promise<readonly ClaimedJob[]> {
    return this.later(async () => {
      const claimed: ClaimedJob[] = [];
      for (const [functionName, count] of demand) {
        let got = 0;
        while (got < count) {
          const connection = this.claimConnection(functionName);
          const assignment = connection.grab();
          if (assignment === undefined) {
            connection.close();
            break;
          }
          const info = await Promise.resolve(this.queue.job(assignment.handle));
          this.claims.set(assignment.handle, { connection, attempt: assignment.attempt });
          claimed.push({
            handle: assignment.handle,
            functionName,
            unique: assignment.unique,
            payload: Buffer.from(assignment.payload),
            priority: info?.priority ?? 'normal',
            reducer: assignment.reducer,
            attempt: assignment.attempt,
            relayed: this.double.watchedElsewhere(assignment.handle),
          });
          got++;
        }
        // Fewer than asked for: the node hears when the function has jobs again.
        if (got < count) this.listen(functionName);
      }
      return claimed;
    });
  }

  /** A connection that holds one claimed job, and tells its node if the job is taken back. */
  private claimConnection(functionName: string): Connection {
    const connection: Connection = this.queue.connect({
      address: this.identity?.name ?? 'node',
      sink: {
        wake: () => undefined,
        revoked: (handle, reason) => {
          const claim = this.claims.get(handle);
          if (claim?.connection !== connection) return;
          this.claims.delete(handle);
          connection.close();
          const signals = this.signals;
          void this.later(() => signals?.revoked(handle, claim.attempt, reason)).catch(
            () => undefined,
          );
        },
      },
    });
    connection.canDo(functionName, { capacity: 1 });
    return connection;
  }

  /** Arms the function's listener: its wake is the node's notification. */
  private listen(functionName: string): void {
    let listener = this.listeners.get(functionName);
    if (listener === undefined) {
      listener = this.queue.connect({
        address: this.identity?.name ?? 'node',
        sink: {
          wake: () => {
            const signals = this.signals;
            void this.later(() => signals?.waiting([functionName])).catch(() => undefined);
          },
        },
      });
      listener.canDo(functionName, { capacity: 1 });
      this.listeners.set(functionName, listener);
    }
    listener.preSleep();
  }

  report(batch: readonly AttemptReport[]): Promise<readonly ReportOutcome[]> {
    return this.later(() => this.written(() => batch.map((report) => this.end(report))));
  }

  /** Ends one attempt on the connection that holds it; says what became of the job. */
  private end(report: AttemptReport): ReportOutcome {
    const claim = this.claims.get(report.handle);
    if (claim === undefined || claim.attempt !== report.attempt) return { state: 'stale' };
    const { connection } = claim;
    if (!connection.holds(report.handle)) return { state: 'stale' };
    this.claims.delete(report.handle);
    // What the queue's server does with the job now, as its own events say it.
    const givenBack = report.end.kind === 'unclaimed' || report.end.kind === 'abandoned';
    let outcome: ReportOutcome = {
      state: 'queued',
      attempt: givenBack ? report.attempt : report.attempt + 1,
    };
    const watch = this.queue.events$.subscribe((event) => {
      if (!('handle' in event) || event.handle !== report.handle) return;
      if (event.type === 'completed') outcome = { state: 'completed' };
      else if (event.type === 'failed') outcome = { state: 'failed', reason: event.reason };
      else if (event.type === 'retrying') {
        outcome = {
          state: 'retrying',
          attempt: event.attempt,
          reason: event.reason,
          delay: event.delay,
        };
      } else if (event.type === 'retried') outcome = { state: 'queued', attempt: event.attempt };
    });
    try {
      const end = report.end;
      switch (end.kind) {
        case 'complete':
          connection.workComplete(report.handle, end.data);
          break;
        case 'fail':
          connection.workFail(report.handle, thrownOf(end.thrown));
          break;
        case 'timeout':
          this.double.timingOut.add(report.handle);
          try {
            connection.workFail(report.handle);
          } finally {
            this.double.timingOut.delete(report.handle);
          }
          {
            // Set by the events' subscription during workFail (TypeScript cannot see it).
            const ended = outcome as ReportOutcome;
            if (ended.state === 'failed') outcome = { state: 'failed', reason: 'TIMEOUT' };
            else if (ended.state === 'retrying') outcome = { ...ended, reason: 'TIMEOUT' };
          }
          break;
        case 'exception':
          connection.workException(report.handle, end.data, thrownOf(end.thrown));
          break;
        case 'abandoned': {
          // This node waits no more, then gives it back: a foreground job nobody else waits
          // for is dropped.
          const listener = this.listening.get(report.handle);
          if (listener !== undefined) {
            this.listening.delete(report.handle);
            this.client?.detach(report.handle, listener);
          }
          connection.giveBack(report.handle);
          break;
        }
        case 'unclaimed':
          connection.giveBack(report.handle);
          break;
        case 'lost':
          // The worker went away: the job waits for its next attempt (or fails past it).
          break;
      }
      connection.close();
    } finally {
      watch.unsubscribe();
    }
    return outcome;
  }

  progress(batch: readonly ProgressReport[]): Promise<void> {
    return this.later(() => {
      for (const p of batch) {
        const claim = this.claims.get(p.handle);
        if (claim === undefined || claim.attempt !== p.attempt) continue;
        // Other nodes that wait for the job had its status relayed, every one.
        if (this.double.watchedElsewhere(p.handle)) continue;
        claim.connection.workStatus(p.handle, p.numerator, p.denominator);
      }
    });
  }

  status(handle: string) {
    return this.later(() => this.queue.status(handle));
  }
  statusByUnique(unique: string, functionName?: string) {
    return this.later(async () => {
      const status = await Promise.resolve(this.queue.statusByUnique(unique, functionName));
      if (status.handle === undefined || !this.double.kept.has(status.handle)) return status;
      return { ...status, clientCount: status.clientCount - 1 };
    });
  }
  functions() {
    return this.later(() => this.queue.functions());
  }
  jobs(filter: JobFilter) {
    return this.later(async () => (await this.queue.jobs(filter)).map((j) => this.withNode(j)));
  }
  job(handle: string) {
    return this.later(async () => {
      const info = await this.queue.job(handle);
      return info === undefined ? undefined : this.withNode(info);
    });
  }
  outcome(handle: string) {
    return this.later(() => this.queue.outcome(handle));
  }
  outcomes(filter: OutcomeFilter) {
    return this.later(() => this.queue.outcomes(filter));
  }
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>) {
    return this.later(() => this.queue.outcomeCount(filter));
  }
  cancel(handle: string) {
    return this.later(() => this.queue.cancel(handle));
  }
  retry(handle: string): Promise<SubmitAnswer | undefined> {
    return this.later(async () => {
      try {
        return { handle: await this.queue.retry(handle), coalesced: false };
      } catch (error) {
        if ((error as { code?: string }).code === 'JOB_NOT_FOUND') return undefined;
        throw error;
      }
    });
  }
  discard(handle: string) {
    return this.later(() => this.queue.discard(handle));
  }
  discardFailed(functionName: string) {
    return this.later(() => this.queue.discardFailed(functionName));
  }
  /** The record replaces the function's whole: each setting it lacks is put back to null. */
  saveSettings(functionName: string, record: SettingsRecord): Promise<void> {
    const changes = settingsChangesOf(record);
    return this.later(async () => {
      await this.queue.configure(functionName, changes);
      this.double.settingsSaved(functionName, record);
    });
  }
  settings(): Promise<SettingsRecord[]> {
    return this.later(async () => (await this.queue.configured()).map((s) => s.configured));
  }
  schedule(id: string, options: ScheduleOptions) {
    return this.later(() => {
      // Its ticks are this node's to report, as the node whose insert of a tick won would.
      this.double.owns(id);
      return this.queue.schedule(id, options);
    });
  }

  /** Tells this node of an event of the queue it is to report. */
  forward(event: JobEvent): void {
    const signals = this.signals;
    if (signals !== null && !this.closed) signals.event(event);
  }
  unschedule(id: string) {
    return this.later(() => this.queue.unschedule(id));
  }
  schedules() {
    return this.later(() => this.queue.schedules());
  }
}
