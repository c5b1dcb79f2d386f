import { QueueUnavailableError } from '../errors.js';
import type { QueueBackend } from '../queue-backend.js';
import type { JobPolicy } from '../retry.js';
import type { SubmitOutcome } from '../transport-types.js';
import type {
  FunctionControl,
  FunctionLimits,
  FunctionStatus,
  JobFilter,
  JobInfo,
  OutcomeFilter,
  QueueLimits,
  ScheduleOptions,
} from '../types.js';
import type { ServerContext } from './context.js';
import { LocalAdmin } from './local-admin.js';
import type { LocalViews } from './local-views.js';
import type { QueueAdmin } from './queue-admin.js';
import type { SharedQueue } from './shared-queue.js';

/**
 * A shared queue's side of the job server's API: the whole queue's answers come from the
 * backend; the foreground jobs this node keeps, and its workers, from this node.
 */
export class SharedAdmin implements QueueAdmin {
  private readonly backend: QueueBackend;
  /** The foreground jobs' side: their policies are this node's. */
  private readonly localAdmin: LocalAdmin;

  constructor(
    private readonly ctx: ServerContext,
    private readonly queue: SharedQueue,
    /** The views of the foreground jobs kept on this node. */
    private readonly local: LocalViews,
    backend: QueueBackend,
  ) {
    this.backend = backend;
    this.localAdmin = new LocalAdmin(queue.local, local);
  }

  open(): Promise<void> {
    return this.queue.open().catch((error: unknown) => {
      throw new QueueUnavailableError('the shared queue could not be opened', error);
    });
  }

  /** Whether this node keeps the job under `handle` (a foreground job). */
  private here(handle: string): boolean {
    return this.queue.local.byHandle(handle) !== undefined;
  }

  status(handle: string) {
    return this.here(handle) ? this.local.status(handle) : this.backend.status(handle);
  }

  async statusByUnique(unique: string, functionName?: string) {
    const local = this.local.statusByUnique(unique, functionName);
    return local.known ? local : this.backend.statusByUnique(unique, functionName);
  }

  /** The whole queue's counts, with this node's foreground jobs and its workers. */
  async functions(): Promise<FunctionStatus[]> {
    const rows = new Map<string, FunctionStatus>();
    for (const row of await this.backend.functions()) rows.set(row.functionName, row);
    for (const here of this.local.functionStatus()) {
      const row = rows.get(here.functionName);
      if (row === undefined) {
        rows.set(here.functionName, here);
        continue;
      }
      rows.set(here.functionName, {
        ...row,
        total: row.total + here.total,
        running: row.running,
        workers: here.workers,
        queued: {
          high: row.queued.high + here.queued.high,
          normal: row.queued.normal + here.queued.normal,
          low: row.queued.low + here.queued.low,
        },
      });
    }
    return [...rows.values()];
  }

  async jobs(filter: JobFilter): Promise<JobInfo[]> {
    const shared = await this.backend.jobs(filter);
    const limit = filter.limit ?? Infinity;
    // The claimed jobs this node shows as its own are the backend's: only foreground ones.
    const here = this.local.jobs(filter).filter((job) => !job.background);
    return [...here, ...shared].slice(0, limit);
  }

  job(handle: string) {
    return this.here(handle) ? this.local.job(handle) : this.backend.job(handle);
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
    if (this.here(handle)) return this.queue.local.cancel(handle);
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

  /** The cluster's policy, and this node's for the foreground jobs it keeps (decision 33). */
  async setJobPolicy(functionName: string, policy: JobPolicy | null): Promise<void> {
    await this.backend.setJobPolicy(functionName, policy);
    this.localAdmin.setJobPolicy(functionName, policy);
  }
  jobPolicy(functionName: string) {
    return this.backend.jobPolicy(functionName);
  }
  async setPaused(functionName: string, paused: boolean): Promise<void> {
    await this.backend.setPaused(functionName, paused);
    // And on this node: the foreground jobs it keeps and the jobs it claimed, at hand, wait
    // too (its local gate holds them, and reports the change as the local queue does).
    await this.queue.local.setPaused(functionName, paused);
  }
  setLimits(functionName: string, limits: FunctionLimits | null) {
    return this.backend.setLimits(functionName, limits);
  }
  async control(functionName: string): Promise<FunctionControl> {
    const found = (await this.backend.controls()).find((c) => c.functionName === functionName);
    return found ?? { functionName, paused: false, rate: null, concurrency: null };
  }
  controls() {
    return this.backend.controls();
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

  createFunction(functionName: string): void {
    this.queue.local.functions.create(functionName);
  }
  dropFunction(functionName: string): void {
    this.queue.local.functions.drop(functionName);
  }
  setMaxQueue(functionName: string, limits: QueueLimits): boolean {
    return this.queue.local.functions.setLimits(functionName, limits);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
