import {
  QueueFullError,
  type JobEvent,
  type JobFilter,
  type OutcomeFilter,
  type ScheduleOptions,
  type SettingsRecord,
} from '@geartrain/core';
import type {
  AttemptReport,
  BackendSignals,
  ClaimedJob,
  NodeIdentity,
  ProgressReport,
  QueueBackend,
  RelayedUpdate,
  ReportOutcome,
  SharedSubmission,
  SubmitAnswer,
} from '@geartrain/core/transport';
import { Admin } from './admin.js';
import { Claims } from './claims.js';
import { clientConfig, Connections, targetOf } from './connections.js';
import { QueueClosedError } from './errors.js';
import { Attempts, type QueueStats, type Row } from './attempts.js';
import { Notifier, type Notice } from './notifier.js';
import { settingsOf, type PostgresQueueOptions, type Settings } from './options.js';
import { handleOf, priorityOf } from './rows.js';
import { migrate } from './schema.js';
import { OutcomeRetention, type RetentionPass } from './retention.js';
import { ScheduleRunner, type ScheduleRow } from './schedule-runner.js';
import { Session, type Beat } from './session.js';
import { KnownEmpty } from './known-empty.js';
import { keysOf, statementsOf, type Statements } from './statements.js';
import { emptyCounts, Views, type Counts } from './views.js';
import { Wakes } from './wakes.js';
import { groupSubmissions, submitValues, submitWithin } from './within.js';
import { Watches } from './watches.js';

/** Functions the heartbeat looks at for missed jobs, at most. */
const LISTENING_LIMIT = 256;

/**
 * The shared queue's backend on PostgreSQL (issue 31): one per node. The README says what
 * each part does and costs.
 */
export class PostgresQueue implements QueueBackend {
  /** The options, with their defaults filled in. */
  readonly options: Settings;
  private readonly st: Statements;
  private readonly keys: { lockSpace: number; channel: string };
  private db: Connections | null = null;
  private session: Session | null = null;
  private notifier: Notifier | null = null;
  private readonly runner: ScheduleRunner;
  private readonly views: Views;
  private readonly admin: Admin;
  private readonly wakes: Wakes;
  private readonly claims: Claims;
  private node: NodeIdentity | null = null;
  private signals: BackendSignals | null = null;
  private cluster = '';
  private opened = false;
  private closed = false;
  private readonly attempts: Attempts;
  /** The foreground jobs this node's clients wait for (decision 36). */
  private readonly watches: Watches;
  private readonly counts = new Map<string, Counts>();
  /** Functions whose last claim found too few jobs: the heartbeat looks for theirs. */
  private readonly empty = new KnownEmpty(LISTENING_LIMIT);
  private readonly retention: OutcomeRetention;

  constructor(options: PostgresQueueOptions = {}) {
    this.options = settingsOf(options);
    this.st = statementsOf(this.options.schema);
    this.keys = keysOf(this.options.schema);
    const db = () => this.connections();
    this.views = new Views(db, this.st, () => this.cluster, this.counts);
    this.wakes = new Wakes((names) => this.heard(names));
    this.claims = new Claims(this.st, db, this.keys.lockSpace);
    this.runner = new ScheduleRunner(
      (row, tick) => this.tick(row, tick),
      (error) => this.log(error, 'submit a schedule tick'),
    );
    this.attempts = new Attempts({
      st: this.st,
      settings: this.options,
      db,
      cluster: () => this.cluster,
      node: () => this.connectedNode().id,
      kept: () => this.retention.kept(),
      ended: (rows) => this.ended(rows),
      revoked: (handle, attempt, reason) => this.signals?.revoked(handle, attempt, reason),
      updated: (ids) => this.updated(ids),
      abandoned: (ids) =>
        void this.watches
          .dropUnwatched(ids)
          .catch((e: unknown) => this.log(e, 'drop foreground jobs nobody waits for')),
      event: (event) => this.event(event),
      log: (error, what) => this.log(error, what),
    });
    this.watches = new Watches({
      st: this.st,
      db,
      cluster: () => this.cluster,
      node: () => this.connectedNode().id,
      signals: () => (this.closed ? null : this.signals),
      updated: (ids) => this.notifier?.updated(ids),
      log: (error, what) => this.log(error, what),
    });
    this.retention = new OutcomeRetention(
      db,
      this.st,
      this.options.schema,
      this.options.keep,
      (error) => this.log(error, 'prune kept outcomes'),
    );
    this.admin = new Admin({
      st: this.st,
      db,
      cluster: () => this.cluster,
      nodeId: () => this.node?.id ?? '',
      runner: this.runner,
      revokedHere: (handle, attempt) => this.attempts.revoke(handle, attempt, 'CANCELLED'),
      revokeThere: (to, handle, attempt) =>
        this.notifier?.revoke({ to, handle, attempt, reason: 'CANCELLED' }),
      woken: (names) => this.woken(names),
      cancelled: (name) => this.countsOf(name).cancelled++,
      updated: (ids) => this.updated(ids),
      schedulesChanged: () => this.notifier?.schedulesChanged(),
      settingsChanged: (name) => this.notifier?.settingsChanged(name),
    });
  }

  /**
   * The database this queue is in, as `user@host:port/database (schema NAME)`, without the
   * password: what the command prints at its start.
   */
  get target(): string {
    return `${targetOf(clientConfig(this.options, 'target'))} (schema ${this.options.schema})`;
  }

  /** The cluster's handle prefix (`H:<cluster>:<id>`), once open. */
  get clusterId(): string {
    return this.cluster;
  }

  /** What the queue counted since it opened (tests, metrics). */
  get stats(): QueueStats {
    return this.attempts.stats;
  }

  /**
   * Statements this node sent since it opened: its heartbeats, and everything on its pool
   * (NOTIFY included; not the session's own start-up and LISTEN).
   */
  get statements(): number {
    return (this.db?.sent ?? 0) + (this.session?.beats ?? 0);
  }

  /** NOTIFY this node sent since it opened. */
  get notifications(): number {
    return this.notifier?.sent ?? 0;
  }

  /** The backend PID of this node's own session (the holder of its liveness lock). */
  sessionPid(): Promise<number | undefined> {
    return this.session?.pid() ?? Promise.resolve(undefined);
  }

  /** Runs a heartbeat (and reaper pass) now, rather than at its time: for tests. */
  heartbeatNow(): Promise<void> {
    return this.session?.beat() ?? Promise.resolve();
  }

  private connections(): Connections {
    if (this.db === null || this.closed) throw new QueueClosedError();
    return this.db;
  }

  private log(error: unknown, what: string): void {
    if (this.closed) return;
    this.options.logger?.error({ err: error }, `postgres queue failed to ${what}`);
  }

  private countsOf(name: string): Counts {
    let counts = this.counts.get(name);
    if (counts === undefined) this.counts.set(name, (counts = emptyCounts()));
    return counts;
  }

  private event(event: JobEvent): void {
    if (!this.closed) this.signals?.event(event);
  }

  // ---------------------------------------------------------------------------------
  // Opening and closing

  async open(node: NodeIdentity, signals: BackendSignals): Promise<void> {
    if (this.opened || this.closed) throw new QueueClosedError();
    this.node = node;
    this.signals = signals;
    const settings = this.options;
    this.cluster = (await migrate(clientConfig(settings, 'migrate'), settings.schema)).cluster;
    const db = new Connections(clientConfig(settings, 'queue'), settings.pool, (error) =>
      this.log(error, 'keep a connection'),
    );
    this.db = db;
    this.notifier = new Notifier(
      node.id,
      1000 / settings.notifyRate,
      (payload) => db.query(this.st.notify, [this.keys.channel, payload]),
      (error) => this.log(error, 'notify the other nodes'),
    );
    const session = new Session({
      config: clientConfig(settings, 'session'),
      channel: this.keys.channel,
      heartbeat: settings.heartbeat,
      lease: settings.lease,
      register: { statement: this.st.register, values: [node.id, node.name, this.keys.lockSpace] },
      beat: {
        statement: this.st.heartbeat,
        values: () => [
          node.id,
          settings.lease,
          this.keys.lockSpace,
          this.empty.list(),
          // Written at every beat: a few names, and right again after a reaping.
          this.signals?.abilities() ?? [],
        ],
      },
      leave: { statement: this.st.leave, values: [node.id] },
      registered: (existed, dbNow, localNow) => this.registered(existed, dbNow, localNow),
      beaten: (beat, localNow) => this.beaten(beat, localNow),
      notified: (payload) => this.notified(payload),
      failed: (error) => this.log(error, 'keep its own session'),
    });
    this.session = session;
    try {
      await session.start();
      await this.reloadSchedules();
      // Nodes that died while none was up to reap them wait for nothing any more.
      await this.watches.forgetDead();
    } catch (error) {
      this.closed = true;
      await session.stop();
      await db.close();
      throw error;
    }
    this.opened = true;
    this.retention.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.runner.stop();
    this.retention.stop();
    this.wakes.stop();
    await this.notifier?.close();
    this.closed = true;
    await this.session?.stop();
    await this.db?.close();
  }

  // ---------------------------------------------------------------------------------
  // Submitting

  async submit(batch: readonly SharedSubmission[]): Promise<readonly SubmitAnswer[]> {
    const db = this.connections();
    const me = this.connectedNode().id;
    const { sent, watch, foreground, slots } = groupSubmissions(batch);
    const waits = watch.includes(true);
    const rows = await db.query<{
      ord: number;
      id: string;
      coalesced: boolean;
      node: string | null;
    }>(
      waits ? this.st.submitForeground : this.st.submit,
      waits ? submitValues(sent, { node: me, watch, only: foreground }) : submitValues(sent),
    );
    const answers = new Array<{ handle: string; coalesced: boolean } | undefined>(sent.length);
    for (const row of rows) {
      answers[row.ord - 1] = { handle: handleOf(this.cluster, row.id), coalesced: row.coalesced };
      if (!watch[row.ord - 1]) continue;
      this.watches.watch(row.id);
      // Running on another node: it passes the job's updates on from now.
      if (row.node !== null && row.node !== me) this.notifier?.watching(row.node, row.id);
    }
    const ready = new Set<string>();
    let waited = false;
    sent.forEach((s, i) => {
      const answer = answers[i];
      if (answer === undefined) return;
      const counts = this.countsOf(s.functionName);
      if (answer.coalesced) {
        counts.coalesced++;
      } else {
        counts.submitted++;
        if (s.delay > 0) this.due(s.functionName, s.delay);
        else ready.add(s.functionName);
        waited ||= watch[i]!;
      }
    });
    // A client waits for a foreground job: the other nodes hear of it at once, not at the
    // notifier's pace (a round trip across nodes waited up to its 50 ms interval for it).
    this.woken([...ready], waited);
    return slots.map((slot, i): SubmitAnswer => {
      const answer = answers[slot >= 0 ? slot : -1 - slot];
      // No answer row: refused by the function's queue limits.
      if (answer === undefined) return { error: new QueueFullError(batch[i]!.functionName) };
      if (slot >= 0) return answer;
      this.countsOf(batch[i]!.functionName).coalesced++;
      return { handle: answer.handle, coalesced: true };
    });
  }

  submitWithin(transaction: unknown, submission: SharedSubmission): Promise<SubmitAnswer> {
    this.connectedNode();
    return submitWithin(transaction, submission, {
      submit: this.st.submit,
      channel: this.keys.channel,
      cluster: this.cluster,
    });
  }

  /**
   * Jobs of these functions may be claimed now: this node and the others are told (`now`:
   * without waiting for the notifier's interval).
   */
  private woken(names: readonly string[], now = false): void {
    if (names.length === 0 || this.closed) return;
    this.heard(names);
    this.notifier?.jobs(names, now);
  }

  /** Jobs of these functions (null: of any) may be claimable: this node is told. */
  private heard(names: readonly string[] | null): void {
    this.empty.heardOf(names);
    this.signals?.waiting(names);
  }

  /** A job of `name` is due in `delay` ms: this node and the others set a timer. */
  private due(name: string, delay: number): void {
    this.wakes.at(name, delay);
    this.notifier?.due(name, delay);
  }

  // ---------------------------------------------------------------------------------
  // Claiming, reporting, progress

  async claim(demand: ReadonlyMap<string, number>): Promise<readonly ClaimedJob[]> {
    const node = this.connectedNode().id;
    // A function known to have no job is not asked for while the session is up (it hears
    // of new jobs, and its heartbeat looks for missed ones): an idle node's backstop poll
    // sends nothing.
    let asked = demand;
    if (this.session?.connected === true) {
      asked = new Map([...demand].filter(([name]) => !this.empty.has(name)));
      if (asked.size === 0) return [];
    }
    const mark = this.empty.mark();
    const { jobs, waits, short } = await this.claims.claim(asked, node);
    for (const [name, wait] of waits) this.wakes.at(name, wait);
    // Functions that found too few jobs are looked at by the heartbeat (the backstop).
    this.empty.found(asked.keys(), short, mark);
    return jobs.map((row) => this.attempts.claimed(row));
  }

  private connectedNode(): NodeIdentity {
    if (this.node === null || this.closed) throw new QueueClosedError();
    return this.node;
  }

  report(batch: readonly AttemptReport[]): Promise<readonly ReportOutcome[]> {
    return this.attempts.report(batch);
  }

  progress(batch: readonly ProgressReport[]): Promise<void> {
    return this.attempts.progress(batch);
  }

  relay(batch: readonly RelayedUpdate[]): Promise<void> {
    this.connectedNode();
    return this.watches.relay(batch);
  }

  unwatch(handles: readonly string[]): Promise<void> {
    this.connectedNode();
    return this.watches.unwatch(handles);
  }

  /** Updates of these jobs were written: the nodes waiting, this one too, read them. */
  private updated(ids: readonly string[]): void {
    this.notifier?.updated(ids);
    this.watches.heard(ids);
  }

  /** Matched ends: counted; what they requeue or free is woken, here and elsewhere. */
  private ended(rows: readonly Row[]): void {
    const ready = new Set<string>();
    const me = this.node?.id;
    for (const { held, fate, node } of rows) {
      // Ended by this node's own report: its clients here were told by the worker (a dead
      // node's job this node put back wrote its end for every node waiting, this one too).
      // (Given back abandoned, it waits for it no more either.)
      if (fate.act !== 'q' && fate.act !== 'u' && node === me) this.watches.ended(held.id);
      const counts = this.countsOf(held.functionName);
      const state = fate.outcome.state;
      if (state === 'completed') counts.completed++;
      else if (state === 'failed') counts.failed++;
      else if (state === 'retrying') counts.retried++;
      else if (state === 'queued' && fate.act === 'q') counts.requeued++;
      if (fate.requeued && fate.delay > 0) this.due(held.functionName, fate.delay);
      else if (fate.requeued || held.limited) ready.add(held.functionName);
    }
    this.woken([...ready]);
  }

  // ---------------------------------------------------------------------------------
  // Liveness and notifications

  private registered(existed: boolean, dbNow: number, localNow: number): void {
    this.runner.setClock(dbNow, localNow);
    if (!this.opened) return;
    // Notifications may have been missed while the session was down: look at everything.
    this.heard(null);
    this.watches.heard(null);
    void this.reloadSettings(null).catch((e) => this.log(e, 'read settings'));
    if (existed) return;
    this.attempts.giveUp();
  }

  private beaten(beat: Beat, localNow: number): void {
    this.watches.beat();
    if (beat.reaped > 0) {
      void this.watches.forgetDead().catch((e) => this.log(e, 'forget the watchers of dead nodes'));
    }
    this.runner.setClock(beat.now_ms, localNow);
    if (beat.orphans !== null && beat.orphans.length > 0) this.attempts.recover(beat.orphans);
    if (beat.ready.length > 0) this.heard(beat.ready);
  }

  private notified(payload: string): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    const me = this.node?.id;
    for (const r of notice.r ?? []) {
      if (r.to === me) this.attempts.revoke(r.handle, r.attempt, 'CANCELLED');
    }
    // Before the sender is looked at: a cancel on this node writes an end its clients read.
    if (notice.u !== undefined) this.watches.heard(notice.u.length === 0 ? null : notice.u);
    for (const w of notice.w ?? []) {
      if (w.to === me) this.signals?.relay(handleOf(this.cluster, w.id));
    }
    if (notice.n === me) return;
    if (notice.f !== undefined) this.heard(notice.f);
    for (const [name, delay] of Object.entries(notice.d ?? {})) this.wakes.at(name, delay);
    if (notice.s === 1) void this.reloadSchedules().catch((e) => this.log(e, 'read schedules'));
    if (notice.c !== undefined) {
      const names = notice.c.length === 0 ? null : notice.c;
      void this.reloadSettings(names).catch((e) => this.log(e, 'read settings'));
    }
  }

  /**
   * Settings changed on another node (`names`; null: any, as after this node's session was
   * down): the records are read again and put in force here (a pause holds the jobs this
   * node has at hand; decision 35).
   */
  private async reloadSettings(names: readonly string[] | null): Promise<void> {
    const records = await this.admin.settings();
    if (this.closed) return;
    const byName = new Map(records.map((r) => [r.functionName, r]));
    const changed = names ?? [...byName.keys()];
    for (const name of changed) this.signals?.settings(name, byName.get(name));
  }

  // ---------------------------------------------------------------------------------
  // Schedules

  private async reloadSchedules(): Promise<void> {
    const rows = await this.connections().query<ScheduleRow & { now_ms: number }>(
      this.st.schedules,
    );
    this.runner.load(rows);
  }

  /** Submits a tick; the node whose compare-and-set wins reports it. */
  private async tick(row: ScheduleRow, tick: number): Promise<void> {
    const [won] = await this.connections().query<{ id: string; coalesced: boolean; fn: string }>(
      this.st.tick,
      [row.id, tick, row.since],
    );
    if (won === undefined) return;
    const handle = handleOf(this.cluster, won.id);
    const time = Date.now();
    if (!won.coalesced) {
      this.countsOf(won.fn).submitted++;
      this.woken([won.fn]);
      this.event({
        type: 'submitted',
        time,
        handle,
        functionName: won.fn,
        unique: `${row.unique_key}:${tick}`,
        priority: priorityOf(row.priority),
        background: true,
      });
    }
    this.event({
      type: 'scheduled',
      time,
      scheduleId: row.id,
      tick,
      handle,
      coalesced: won.coalesced,
    });
  }

  /** One pass of the outcome retention, now: for tests. */
  retainNow(): Promise<RetentionPass> {
    return this.retention.pass();
  }

  // ---------------------------------------------------------------------------------
  // Views, operations by hand, settings, schedules

  status(handle: string) {
    return this.views.status(handle);
  }
  statusByUnique(unique: string, functionName?: string) {
    return this.views.statusByUnique(unique, functionName);
  }
  functions() {
    return this.views.functions();
  }
  jobs(filter: JobFilter) {
    return this.views.jobs(filter);
  }
  job(handle: string) {
    return this.views.job(handle);
  }
  outcome(handle: string) {
    return this.views.outcome(handle);
  }
  outcomes(filter: OutcomeFilter) {
    return this.views.outcomes(filter);
  }
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>) {
    return this.views.outcomeCount(filter);
  }
  cancel(handle: string) {
    return this.admin.cancel(handle);
  }
  retry(handle: string) {
    return this.admin.retry(handle);
  }
  discard(handle: string) {
    return this.admin.discard(handle);
  }
  discardFailed(functionName: string) {
    return this.admin.discardFailed(functionName);
  }
  saveSettings(functionName: string, record: SettingsRecord) {
    return this.admin.saveSettings(functionName, record);
  }
  settings() {
    return this.admin.settings();
  }
  schedule(id: string, options: ScheduleOptions) {
    return this.admin.schedule(id, options);
  }
  unschedule(id: string) {
    return this.admin.unschedule(id);
  }
  schedules() {
    return this.admin.schedules();
  }
  nodes() {
    return this.views.nodes();
  }
}

/**
 * The shared queue on PostgreSQL, for `createJobServer({ queue: postgresQueue(...) })`:
 * one per node (its connections to the database).
 * @throws InvalidArgumentError for bad options (the database is reached at the server's open)
 */
export function postgresQueue(options?: PostgresQueueOptions): PostgresQueue {
  return new PostgresQueue(options);
}
