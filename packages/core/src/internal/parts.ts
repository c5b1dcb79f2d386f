import type { SchedulerLike } from 'rxjs';
import { ServerContext } from './context.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { LocalQueue, type LocalQueueOptions } from './local-queue.js';
import { LocalViews } from './local-views.js';

export interface PartsOptions extends LocalQueueOptions, DispatcherOptions {
  readonly scheduler: SchedulerLike;
  /** Whether the scheduler is the real clock (not a virtual one a test advances). */
  readonly realClock: boolean;
}

/**
 * One job server's parts (decision 32): the context they share, the queue where jobs wait
 * and end, the dispatcher that hands them to this node's workers, and the queue's views.
 */
export class ServerParts {
  readonly ctx: ServerContext;
  readonly queue: LocalQueue;
  readonly dispatcher: Dispatcher;
  readonly views: LocalViews;

  constructor(options: PartsOptions) {
    this.ctx = new ServerContext(options.scheduler, options.realClock);
    this.queue = new LocalQueue(this.ctx, options);
    this.dispatcher = new Dispatcher(this.ctx, this.queue, this.queue.functions, options);
    this.views = new LocalViews(this.queue);
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
