import type { SettingsRecord } from '../settings-types.js';
import type { SubmitOutcome } from '../transport-types.js';
import type {
  JobFilter,
  JobOutcome,
  NodeInfo,
  OutcomeFilter,
  ScheduleInfo,
  ScheduleOptions,
} from '../types.js';
import type { LocalQueue } from './local-queue.js';
import type { LocalViews } from './local-views.js';
import type { Answer, QueueAdmin } from './queue-admin.js';
import type { CheckedChanges, SettingsDefaults } from './settings-record.js';

/** The local queue's side of the job server's API: answered at once, from memory. */
export class LocalAdmin implements QueueAdmin {
  constructor(
    private readonly queue: LocalQueue,
    private readonly views: LocalViews,
    /** This node, as `nodes()` shows it. */
    private readonly self: () => NodeInfo,
  ) {}

  nodes(): NodeInfo[] {
    return [this.self()];
  }

  get defaults(): SettingsDefaults {
    return this.queue.settings.defaults;
  }

  open(): Promise<void> {
    return this.queue.replay();
  }

  status(handle: string) {
    return this.views.status(handle);
  }
  statusByUnique(unique: string, functionName?: string) {
    return this.views.statusByUnique(unique, functionName);
  }
  functions() {
    return this.views.functionStatus();
  }
  jobs(filter: JobFilter) {
    return this.views.jobs(filter);
  }
  job(handle: string) {
    return this.views.job(handle);
  }

  outcome(handle: string): JobOutcome | undefined {
    return this.queue.kept.get(handle)?.view();
  }
  outcomes(filter: OutcomeFilter): JobOutcome[] {
    return this.queue.kept
      .list(filter.functionName, filter.state, filter.limit)
      .map((o) => o.view());
  }
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>): number {
    return this.queue.kept.count(filter.functionName, filter.state);
  }
  cancel(handle: string): boolean {
    return this.queue.cancel(handle);
  }
  retry(handle: string): Answer<SubmitOutcome | undefined> {
    return this.queue.resubmit(handle);
  }
  discard(handle: string): boolean {
    return this.queue.kept.discard(handle);
  }
  discardFailed(functionName: string): number {
    return this.queue.kept.discardFailed(functionName);
  }

  record(functionName: string): SettingsRecord | undefined {
    return this.queue.settings.record(functionName);
  }
  records(): SettingsRecord[] {
    return this.queue.settings.list();
  }
  /** In force before it returns; a Promise while the store has not confirmed it. */
  configure(functionName: string, changes: CheckedChanges): Answer<SettingsRecord | undefined> {
    const { record, written } = this.queue.settings.configure(functionName, changes);
    return written === undefined ? record : written.then(() => record);
  }

  schedule(id: string, options: ScheduleOptions): Answer<ScheduleInfo> {
    return this.queue.schedules.define(id, options);
  }
  unschedule(id: string): Answer<boolean> {
    return this.queue.schedules.remove(id);
  }
  schedules(): ScheduleInfo[] {
    return this.queue.schedules.list();
  }

  createFunction(functionName: string): void {
    this.queue.functions.create(functionName);
  }
  dropFunction(functionName: string): void {
    this.queue.functions.drop(functionName);
  }

  async close(): Promise<void> {
    await this.queue.store?.close?.();
  }
}
