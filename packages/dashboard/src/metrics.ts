import type {
  FunctionStatus,
  FunctionTimings,
  JobCounts,
  JobServer,
  LatencyHistogram,
  Priority,
} from '@geartrain/core';
import { checkJobServer, checkOptions } from '@geartrain/core/transport';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ServerHistogram } from './server-histogram.js';

export interface MetricsOptions {
  /** Where the metrics are registered (the application's own, so they sit beside its). */
  readonly registry?: Registry;
  /**
   * Distinct function names given a label of their own; the rest fold into `other`, so a
   * client inventing function names cannot blow up the series. Default 100.
   */
  readonly maxFunctions?: number;
  /** Whether prom-client's default process metrics (event-loop lag included) are added. Default true. */
  readonly processMetrics?: boolean;
  /**
   * Whether the wait and run times of jobs are measured (`geartrain_job_wait_seconds`,
   * `geartrain_job_run_seconds`): the server keeps them itself (`measureTimings`), at the
   * cost of a few clock readings per job. Default true.
   */
  readonly timings?: boolean;
}

/** The label value of the functions past `maxFunctions`. */
export const OTHER_FUNCTIONS = 'other';

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
/**
 * Prometheus metrics of a job server, through prom-client. Gauges and counters are read
 * from the server's queries at scrape time, so nothing is done per job for them; so are the
 * wait and run histograms, which the server keeps (`timings`). `close()` unregisters them.
 */
export class JobServerMetrics {
  readonly registry: Registry;
  private readonly labels = new Set<string>();
  private readonly maxFunctions: number;
  /**
   * Give it to a store that reports its commits, so that their time is measured:
   * `SqliteJobStore.open(path, { onCommit: metrics.storeCommit })`.
   */
  readonly storeCommit: (seconds: number) => void;

  constructor(
    private readonly server: JobServer,
    options: MetricsOptions = {},
  ) {
    checkJobServer(server);
    checkOptions(options);
    const registry = (this.registry = options.registry ?? new Registry());
    this.maxFunctions = options.maxFunctions ?? 100;
    const registers = [registry];
    const fn = (name: string) => this.label(name);
    // On a shared queue every node exports the queue's gauges, read from the queue: alike on
    // every node. Each series says whether it is the cluster's (`scope="cluster"`: take one
    // node's, or `max` across them) or this node's own (`scope="node"`: `sum` across them).
    // The local queue's series keep their labels as they were.
    const shared = server.node.shared;
    const scoped = (names: string[]) => (shared ? [...names, 'scope'] : names);
    const cluster: Record<string, string> = shared ? { scope: 'cluster' } : {};
    const own: Record<string, string> = shared ? { scope: 'node' } : {};
    // One look at the functions serves every metric of a scrape (prom-client starts every
    // collect in one synchronous stretch, then awaits them together): dropped at the next
    // microtask, so a scrape never sees an older one. A Promise: a shared queue answers
    // after a round trip, and prom-client awaits an async `collect`.
    let rows: Promise<FunctionStatus[]> | null = null;
    const functions = (): Promise<FunctionStatus[]> => {
      if (rows === null) {
        rows = server.functions();
        queueMicrotask(() => (rows = null));
      }
      return rows;
    };
    /** A gauge of one value per function, read at scrape time (the cluster's, or `own`). */
    const perFunction = (
      name: string,
      help: string,
      read: (f: FunctionStatus) => number,
      scope: Record<string, string> = cluster,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: scoped(['function']),
        registers,
        async collect() {
          const rows = await functions();
          this.reset();
          for (const f of rows) this.inc({ function: fn(f.functionName), ...scope }, read(f));
        },
      });

    new Gauge({
      name: 'geartrain_jobs_queued',
      help: 'Jobs waiting to run (delayed ones included), by function and priority.',
      labelNames: scoped(['function', 'priority']),
      registers,
      async collect() {
        const rows = await functions();
        this.reset();
        for (const f of rows) {
          for (const p of PRIORITIES)
            this.inc({ function: fn(f.functionName), priority: p, ...cluster }, f.queued[p]);
        }
      },
    });
    perFunction(
      'geartrain_jobs_delayed',
      'Jobs waiting for their time (delayed jobs and retries in back-off), by function.',
      (f) => f.delayed,
    );
    perFunction(
      'geartrain_jobs_running',
      'Jobs a worker holds now, by function.',
      (f) => f.running,
    );
    perFunction(
      'geartrain_workers',
      'Connections registered for a function (on this node).',
      (f) => f.workers,
      own,
    );
    new Gauge({
      name: 'geartrain_function_paused',
      help: '1 for a paused function.',
      labelNames: scoped(['function']),
      registers,
      async collect() {
        // Each function's settings record says whether it is paused.
        const configured = await server.configured();
        this.reset();
        for (const s of configured) {
          if (s.paused) this.set({ function: fn(s.functionName), ...cluster }, 1);
        }
      },
    });
    // The names of the widely used gearmand exporter, so that existing dashboards work.
    perFunction(
      'gearman_jobs',
      'Jobs queued or running, by function (as gearadmin --status).',
      (f) => f.total,
    );
    perFunction('gearman_jobs_running', 'Jobs running, by function.', (f) => f.running);
    perFunction('gearman_workers', 'Workers registered, by function.', (f) => f.workers, own);
    new Gauge({
      name: 'gearman_up',
      help: '1 while the job server accepts work.',
      labelNames: scoped([]),
      registers,
      collect() {
        this.set(own, server.closed ? 0 : 1);
      },
    });
    if (shared) {
      // The cluster's nodes, and this node's liveness as the queue sees it.
      let nodes: ReturnType<JobServer['nodes']> | null = null;
      const listed = () => {
        if (nodes === null) {
          nodes = server.nodes();
          queueMicrotask(() => (nodes = null));
        }
        return nodes;
      };
      new Gauge({
        name: 'geartrain_nodes',
        help: 'Live nodes of the shared queue.',
        labelNames: ['scope'],
        registers,
        async collect() {
          this.set(cluster, (await listed()).length);
        },
      });
      new Gauge({
        name: 'geartrain_node_heartbeat_age_seconds',
        help: "Since this node's last heartbeat, as the queue has it (its lease is 10 s).",
        labelNames: ['scope'],
        registers,
        async collect() {
          const self = (await listed()).find((n) => n.self);
          this.reset();
          if (self !== undefined) this.set(own, Math.max(0, Date.now() - self.heartbeatAt) / 1000);
        },
      });
      new Gauge({
        name: 'geartrain_node_running_jobs',
        help: 'Jobs this node claimed and runs (or holds at hand), as the queue has it.',
        labelNames: ['scope'],
        registers,
        async collect() {
          const self = (await listed()).find((n) => n.self);
          this.reset();
          if (self !== undefined) this.set(own, self.running);
        },
      });
    }

    // Counters are the server's own counts, read at scrape time like the gauges: counting
    // from events would make every job build its events (decision 24).
    // On a shared queue, they are this node's (`scope="node"`).
    const counter = (name: string, help: string, count: keyof JobCounts) =>
      new Counter({
        name,
        help,
        labelNames: scoped(['function']),
        registers,
        async collect() {
          const rows = await functions();
          this.reset();
          for (const f of rows) this.inc({ function: fn(f.functionName), ...own }, f.counts[count]);
        },
      });
    counter('geartrain_jobs_submitted_total', 'Jobs accepted, by function.', 'submitted');
    counter(
      'geartrain_jobs_coalesced_total',
      'Submissions joined to a live job of the same unique id, by function.',
      'coalesced',
    );
    counter(
      'geartrain_jobs_retried_total',
      'Failed attempts retried under a retry policy, by function.',
      'retried',
    );
    counter(
      'geartrain_jobs_requeued_total',
      'Jobs queued again after their worker was lost, by function.',
      'requeued',
    );
    new Counter({
      name: 'geartrain_jobs_finished_total',
      help: 'Jobs ended, by function and outcome (completed, failed, cancelled).',
      labelNames: scoped(['function', 'outcome']),
      registers,
      async collect() {
        const rows = await functions();
        this.reset();
        for (const f of rows) {
          const labels = { function: fn(f.functionName), ...own };
          this.inc({ ...labels, outcome: 'completed' }, f.counts.completed);
          this.inc({ ...labels, outcome: 'failed' }, f.counts.failed);
          this.inc({ ...labels, outcome: 'cancelled' }, f.counts.cancelled);
        }
      },
    });
    if (options.timings ?? true) {
      server.measureTimings();
      const latency = (
        name: string,
        help: string,
        read: (t: FunctionTimings) => LatencyHistogram,
      ) =>
        registry.registerMetric(new ServerHistogram(name, help, () => server.timings(), read, fn));
      latency(
        'geartrain_job_wait_seconds',
        'From the moment a job may run (submitted, or its delay or back-off over) to a start.',
        (t) => t.wait,
      );
      latency(
        'geartrain_job_run_seconds',
        'From the start of an attempt to its end (completed, failed, timed out or lost).',
        (t) => t.run,
      );
    }
    const commits = new Histogram({
      name: 'geartrain_store_commit_seconds',
      help: 'How long the job store took to commit a group of writes.',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.storeCommit = (seconds: number) => commits.observe(seconds);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** The exposition text (what `/metrics` answers). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The function's label: its name while fewer than `maxFunctions` have one, else `other`. */
  private label(name: string): string {
    if (this.labels.has(name)) return name;
    if (this.labels.size >= this.maxFunctions) return OTHER_FUNCTIONS;
    this.labels.add(name);
    return name;
  }

  /** The metrics leave the registry. */
  close(): void {
    this.registry.clear();
  }
}

/** Registers a job server's metrics (see {@link JobServerMetrics}). */
export function createMetrics(server: JobServer, options?: MetricsOptions): JobServerMetrics {
  return new JobServerMetrics(server, options);
}
