import type { JobPolicy } from '../retry.js';
import type { SubmitOutcome } from '../transport-types.js';
import { retriesOf } from '../retry.js';
import type {
  FunctionControl,
  FunctionLimits,
  JobFilter,
  JobOutcome,
  OutcomeFilter,
  QueueLimits,
  ScheduleInfo,
  ScheduleOptions,
} from '../types.js';
import type { LocalQueue } from './local-queue.js';
import type { LocalViews } from './local-views.js';
import type { Answer, QueueAdmin } from './queue-admin.js';

/** The local queue's side of the job server's API: answered at once, from memory. */
export class LocalAdmin implements QueueAdmin {
  constructor(
    private readonly queue: LocalQueue,
    private readonly views: LocalViews,
  ) {}

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

  setJobPolicy(functionName: string, policy: JobPolicy | null): void {
    const queue = this.queue;
    const retries =
      policy === null || (policy.attempts === undefined && policy.backoff === undefined)
        ? null
        : retriesOf({ attempts: 1, ...policy });
    queue.setRetryPolicy(functionName, retries);
    queue.kept.setRetention(functionName, policy?.keep ?? null, queue.functions.get(functionName));
  }
  jobPolicy(functionName: string): JobPolicy | null {
    const retry = this.queue.retryPolicy(functionName);
    const keep = this.queue.kept.retention(functionName);
    if (retry === null && keep === null) return null;
    return { ...(retry ?? {}), ...(keep === null ? {} : { keep }) };
  }
  setPaused(functionName: string, paused: boolean) {
    return this.queue.setPaused(functionName, paused);
  }
  setLimits(functionName: string, limits: FunctionLimits | null) {
    return this.queue.setLimits(functionName, limits);
  }
  control(functionName: string): FunctionControl {
    return this.queue.gates.control(functionName);
  }
  controls(): FunctionControl[] {
    return this.queue.gates.list();
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
  setMaxQueue(functionName: string, limits: QueueLimits): boolean {
    return this.queue.functions.setLimits(functionName, limits);
  }

  async close(): Promise<void> {
    await this.queue.store?.close?.();
  }
}
