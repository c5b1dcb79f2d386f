import { QueueUnavailableError } from '../errors.js';
import type { QueueBackend } from '../queue-backend.js';
import type { SettingsRecord } from '../settings-types.js';
import type { SubmitOutcome } from '../transport-types.js';
import type {
  FunctionStatus,
  JobFilter,
  JobInfo,
  NodeInfo,
  OutcomeFilter,
  ScheduleOptions,
} from '../types.js';
import type { ServerContext } from './context.js';
import type { LocalViews } from './local-views.js';
import type { QueueAdmin } from './queue-admin.js';
import { merged, same, type CheckedChanges, type SettingsDefaults } from './settings-record.js';
import type { SharedQueue } from './shared-queue.js';

/** A gate's limits on this node of a shared queue: none (the backend's gate the claims). */
const NO_LIMITS = { rate: null, concurrency: null } as const;

/**
 * A shared queue's side of the job server's API: the whole queue's answers come from the
 * backend; the foreground jobs this node keeps, and its workers, from this node.
 */
export class SharedAdmin implements QueueAdmin {
  private readonly backend: QueueBackend;

  constructor(
    private readonly ctx: ServerContext,
    private readonly queue: SharedQueue,
    /** The views of the foreground jobs kept on this node. */
    private readonly local: LocalViews,
    backend: QueueBackend,
    /** This node's `keep` and `maxQueue`: what its `settings` show for what is not set. */
    readonly defaults: SettingsDefaults,
  ) {
    this.backend = backend;
    queue.settingsChanged = (functionName, record) => {
      // In turn with this node's own settings operations, so that none overtakes another.
      void this.inTurn(() => {
        this.enforce(functionName, this.queue.local.settings.record(functionName), record);
        return Promise.resolve();
      });
    };
  }

  /** Connects, and puts the cluster's settings in force for the jobs this node keeps. */
  async open(): Promise<void> {
    try {
      await this.queue.open();
      for (const record of await this.backend.settings()) {
        this.enforce(record.functionName, undefined, record, false);
      }
    } catch (error) {
      throw new QueueUnavailableError('the shared queue could not be opened', error);
    }
  }

  /** Whether this node keeps the job under `handle` (a foreground job). */
  status(handle: string) {
    return this.backend.status(handle);
  }

  statusByUnique(unique: string, functionName?: string) {
    return this.backend.statusByUnique(unique, functionName);
  }

  /**
   * The whole queue's counts, alike on every node (the jobs this node holds at hand are the
   * backend's running ones), with this node's workers.
   */
  async functions(): Promise<FunctionStatus[]> {
    const rows = new Map<string, FunctionStatus>();
    for (const row of await this.backend.functions()) rows.set(row.functionName, row);
    for (const here of this.local.functionStatus()) {
      const row = rows.get(here.functionName);
      if (row !== undefined) {
        rows.set(here.functionName, { ...row, workers: here.workers });
      } else {
        // Known here only (a worker registered, or jobs that ended): listed, as gearmand does.
        rows.set(here.functionName, {
          ...here,
          total: 0,
          running: 0,
          queued: { high: 0, normal: 0, low: 0 },
          delayed: 0,
        });
      }
    }
    return [...rows.values()];
  }

  jobs(filter: JobFilter): Promise<JobInfo[]> {
    return this.backend.jobs(filter);
  }

  job(handle: string) {
    return this.backend.job(handle);
  }

  outcome(handle: string) {
    return this.backend.outcome(handle);
  }
  outcomes(filter: OutcomeFilter) {
    return this.backend.outcomes(filter);
  }
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>) {
    return this.backend.outcomeCount(filter);
  }
  // What this node changed in the shared queue it reports once the backend has it, as the
  // local queue reports its own changes.

  async cancel(handle: string): Promise<boolean> {
    const cancelled = await this.backend.cancel(handle);
    if (cancelled && this.ctx.events.observed) this.ctx.emit({ type: 'cancelled', handle });
    return cancelled;
  }
  async retry(handle: string): Promise<SubmitOutcome | undefined> {
    const answer = await this.backend.retry(handle);
    if (answer === undefined) return undefined;
    if ('error' in answer) throw answer.error;
    if (!answer.coalesced && this.ctx.events.observed)
      this.ctx.emit({ type: 'resubmitted', handle });
    return answer;
  }
  async discard(handle: string): Promise<boolean> {
    const discarded = await this.backend.discard(handle);
    if (discarded && this.ctx.events.observed) this.ctx.emit({ type: 'discarded', handle });
    return discarded;
  }
  discardFailed(functionName: string) {
    return this.backend.discardFailed(functionName);
  }

  // Settings are the cluster's: kept by the backend, which gates the claims by them (pause,
  // rate, concurrency) and retries and keeps its jobs by them. This node puts in force what
  // concerns the foreground jobs it keeps (retries, queue limits): see settings.ts.

  // One settings operation of this node at a time, in the order they were asked: a read
  // made after a change (even one not awaited) sees it, as on the local queue, and two
  // changes of this node never interleave their read and write.
  private settingsTurn: Promise<unknown> = Promise.resolve();
  private inTurn<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.settingsTurn.then(operation);
    this.settingsTurn = result.catch(() => undefined);
    return result;
  }

  record(functionName: string): Promise<SettingsRecord | undefined> {
    return this.inTurn(() => this.read(functionName));
  }
  records(): Promise<SettingsRecord[]> {
    return this.inTurn(() => this.backend.settings());
  }
  private async read(functionName: string): Promise<SettingsRecord | undefined> {
    return (await this.backend.settings()).find((r) => r.functionName === functionName);
  }
  configure(functionName: string, changes: CheckedChanges): Promise<SettingsRecord | undefined> {
    return this.inTurn(() => this.change(functionName, changes));
  }
  private async change(
    functionName: string,
    changes: CheckedChanges,
  ): Promise<SettingsRecord | undefined> {
    const before = await this.read(functionName);
    const record = merged(functionName, before, changes);
    const changed = !same(before, record);
    if (changed) await this.backend.saveSettings(functionName, record ?? { functionName });
    // Put in force here even when unchanged: another node may have changed it meanwhile.
    this.enforce(functionName, before, record, changed);
    return record;
  }

  /**
   * Puts a function's record in force on this node, whichever node changed it: its retries,
   * retention and queue limits for the foreground jobs it keeps, and its pause for those and
   * for the jobs it claimed and has at hand (its local gate holds them; rates and
   * concurrency are the backend's alone, or a claimed job would count twice). A change of
   * pause is an event (`emit`).
   */
  private enforce(
    functionName: string,
    before: SettingsRecord | undefined,
    record: SettingsRecord | undefined,
    emit = true,
  ): void {
    this.queue.local.settings.apply(functionName, record, false);
    const paused = record?.paused ?? false;
    this.queue.local.gates.set(functionName, paused, NO_LIMITS, false);
    if (emit && (before?.paused ?? false) !== paused && this.ctx.events.observed) {
      this.ctx.emit({ type: paused ? 'paused' : 'resumed', functionName });
    }
  }

  schedule(id: string, options: ScheduleOptions) {
    return this.backend.schedule(id, options);
  }
  unschedule(id: string) {
    return this.backend.unschedule(id);
  }
  schedules() {
    return this.backend.schedules();
  }

  /** The queue's live nodes, this one marked. */
  async nodes(): Promise<NodeInfo[]> {
    const me = this.queue.node.id;
    return (await this.backend.nodes()).map((node) => ({ ...node, self: node.id === me }));
  }

  createFunction(functionName: string): void {
    this.queue.local.functions.create(functionName);
  }
  dropFunction(functionName: string): void {
    this.queue.local.functions.drop(functionName);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
