import type { SchedulerLike } from 'rxjs';
import type { NodeIdentity, QueueBackend } from '../queue-backend.js';
import { ServerContext } from './context.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { LocalAdmin } from './local-admin.js';
import { LocalQueue, type LocalQueueOptions } from './local-queue.js';
import { LocalViews } from './local-views.js';
import type { JobQueue } from './queue.js';
import type { QueueAdmin } from './queue-admin.js';
import { SharedAdmin } from './shared-admin.js';
import { SharedQueue, type SharedQueueOptions } from './shared-queue.js';
import type { FunctionTable } from './function-table.js';

export interface PartsOptions extends LocalQueueOptions, DispatcherOptions {
  readonly scheduler: SchedulerLike;
  /** Whether the scheduler is the real clock (not a virtual one a test advances). */
  readonly realClock: boolean;
  /** This node (`nodes()`; a shared queue's nodes register under it). */
  readonly node: NodeIdentity;
  /** A shared queue's backend; null: the local queue. */
  readonly shared:
    | ({
        readonly backend: QueueBackend;
      } & Pick<
        SharedQueueOptions,
        'claimBatch' | 'pollInterval' | 'progressInterval' | 'onStale' | 'onError'
      >)
    | null;
}

/**
 * One job server's parts (decision 33): the context they share, the queue where jobs wait
 * and end (local, or shared with other nodes), the dispatcher that hands them to this
 * node's workers, and the queue's side of the server's API.
 */
export class ServerParts {
  readonly ctx: ServerContext;
  readonly queue: JobQueue;
  readonly functions: FunctionTable;
  readonly dispatcher: Dispatcher;
  readonly admin: QueueAdmin;
  /** The local queue's, or the shared queue's local part (its claimed jobs' functions). */
  readonly local: LocalQueue;
  /** This node's identity; whether its queue is shared with other nodes. */
  readonly node: NodeIdentity;
  readonly shared: boolean;

  constructor(options: PartsOptions) {
    this.ctx = new ServerContext(options.scheduler, options.realClock);
    const shared = options.shared;
    this.node = options.node;
    this.shared = shared !== null;
    if (shared === null) {
      const queue = new LocalQueue(this.ctx, options);
      this.queue = queue;
      this.local = queue;
      const startedAt = Date.now();
      const node = options.node;
      this.admin = new LocalAdmin(queue, new LocalViews(queue), () => ({
        ...node,
        startedAt,
        heartbeatAt: Date.now(),
        running: this.dispatcher.running,
        functions: [...queue.functions.byName.values()]
          .filter((fn) => fn.workers.size > 0)
          .map((fn) => fn.name),
        self: true,
      }));
    } else {
      const queue = new SharedQueue(this.ctx, { ...options, ...shared, node: options.node });
      this.queue = queue;
      this.local = queue.local;
      this.admin = new SharedAdmin(this.ctx, queue, new LocalViews(queue.local), shared.backend, {
        keep: options.retention,
        maxQueue: options.maxQueue,
      });
    }
    this.functions = this.local.functions;
    this.dispatcher = new Dispatcher(this.ctx, this.queue, this.functions, options);
  }

  get closing(): boolean {
    return this.ctx.closing;
  }

  /** No new submissions or assignments from now on; unanswered wakes no longer matter. */
  beginClose(): void {
    this.ctx.closing = true;
    this.dispatcher.stopTimers();
    this.queue.beginClose();
  }

  /**
   * Turns on the wait and run times (idempotent): from now on, every start and every end of
   * an attempt is measured (three clock readings per job, most of them shared; decision 25).
   */
  measureTimings(): void {
    if (this.ctx.timingSince < 0) this.ctx.timingSince = this.ctx.stamps.read();
  }

  stopTimers(): void {
    this.dispatcher.stopTimers();
    this.queue.stopTimers();
  }
}
