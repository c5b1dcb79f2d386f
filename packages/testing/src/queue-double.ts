import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import type { Connection, QueueBackend } from '@geartrain/core/transport';
import type { SchedulerLike, Subscription } from 'rxjs';
import { roundTripsSettled } from './round-trips.js';
import { DoubleNode } from './double-node.js';

/** The settings of the whole queue, as a shared queue's are its cluster's, not one node's. */
export type QueueSettings = Pick<
  JobServerOptions,
  'maxRetries' | 'maxQueue' | 'maxUniqueLength' | 'keep' | 'outcomeDataLimit' | 'random'
>;

export interface QueueDoubleOptions extends QueueSettings {
  /**
   * The clock of the queue's own timers (delays, back-offs, schedules). Default: real time.
   * Give the nodes' virtual clock to test on virtual time: answers still come a real turn
   * later, taking no virtual time (`settled()` waits for them).
   */
  scheduler?: SchedulerLike;
  /** Handles of the queue's jobs are `<prefix>:<n>`. Default `H:shared`. */
  handlePrefix?: string;
}

/**
 * A shared queue in memory, for tests (decision 33): what a PostgreSQL queue is to several
 * nodes, with every answer a turn away and every call a batch, as a database's are. Each
 * `node()` is one node's backend; give it to a job server as `createJobServer({ queue })`.
 *
 * Inside, the queue is a job server of its own (its local queue holds the cluster's
 * jobs, runs the schedules, keeps the outcomes, applies the limits), and a node's claim is a
 * worker connection of that server per job: a report ends the attempt on it; a node that
 * closes (or is `kill`ed) loses its claims as a worker's jobs are lost. A node's foreground
 * submissions are one client connection of that server, whose updates the node is told: its
 * clients leaving, or its death, abandon the jobs as a client's going does.
 */
export class QueueDouble {
  /** The queue's own job server: inspect it in tests (its jobs are the cluster's). */
  readonly server: JobServer;
  private readonly scheduler: SchedulerLike;
  private readonly nodes = new Set<DoubleNode>();
  /** Which node defined each schedule: its ticks are that node's to report. */
  private readonly owners = new Map<string, DoubleNode>();
  private ticks: Subscription | null = null;
  /**
   * Jobs whose attempt a node is ending as timed out, while it does: the queue's server
   * knows no timeout from a connection (the node fails the job), so its failure reads as
   * `TIMEOUT` to the nodes that wait for it, as a database's would.
   */
  readonly timingOut = new Set<string>();
  private keeperConnection: Connection | null = null;
  /** Jobs a keeper waits for (see `DoubleNode.keep`): not counted as their clients. */
  private readonly kept = new Set<string>();

  constructor(options: QueueDoubleOptions = {}) {
    const { scheduler, handlePrefix, ...settings } = options;
    this.server = createJobServer({
      ...settings,
      ...(scheduler === undefined ? {} : { scheduler }),
      handlePrefix: handlePrefix ?? 'H:shared',
      releaseMemory: false,
    });
    this.scheduler = this.server.scheduler;
  }

  /** One node's backend on this queue. */
  node(): QueueBackend {
    const node: DoubleNode = new DoubleNode(this.server, this.scheduler, {
      closed: () => {
        this.nodes.delete(node);
        for (const [id, owner] of this.owners) if (owner === node) this.owners.delete(id);
      },
      owns: (id) => this.own(id, node),
      settingsSaved: (name, record) => {
        for (const other of this.nodes) if (other !== node) other.settingsChanged(name, record);
      },
      watchedElsewhere: (handle) =>
        [...this.nodes].some((other) => other !== node && other.watches(handle)),
      watched: (handle) => {
        for (const other of this.nodes) if (other !== node) other.watchedBy(handle);
      },
      timingOut: this.timingOut,
      keeper: () => (this.keeperConnection ??= this.server.connect({ address: 'keeper' })),
      kept: this.kept,
      nodes: () => [...this.nodes].flatMap((other) => other.describe()),
      holder: (handle) => [...this.nodes].find((other) => other.holds(handle))?.id,
    });
    this.nodes.add(node);
    return node;
  }

  /** A node defined a schedule: the queue's ticks of it go to that node's events. */
  private own(id: string, node: DoubleNode): void {
    this.owners.set(id, node);
    this.ticks ??= this.server.events$.subscribe((event) => {
      if (event.type === 'scheduled') this.owners.get(event.scheduleId)?.forward(event);
    });
  }

  /**
   * Resolves once no call of any node is in flight (the queue doubles of this process): every
   * answer given, and what the answers set off sent and answered too.
   */
  settled(): Promise<void> {
    return roundTripsSettled();
  }

  /** A node dies (kill -9): its claims are lost at once, as its connections' would be. */
  kill(backend: QueueBackend): void {
    if (backend instanceof DoubleNode) backend.kill();
  }

  async close(): Promise<void> {
    for (const node of [...this.nodes]) node.kill();
    this.ticks?.unsubscribe();
    await this.server.close({ timeout: 0 });
  }
}

/** Makes a shared queue in memory (see {@link QueueDouble}). */
export function createQueueDouble(options?: QueueDoubleOptions): QueueDouble {
  return new QueueDouble(options);
}
