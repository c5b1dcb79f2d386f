import type {
  FunctionStatus,
  JobCounts,
  JobFilter,
  JobInfo,
  JobOutcome,
  JobStatus,
  NodeInfo,
  OutcomeFilter,
  UniqueJobStatus,
} from '@geartrain/core';
import type { Connections } from './connections.js';
import { handleOf, idOf, jobInfoOf, outcomeOf, type JobRow, type OutcomeRow } from './rows.js';
import type { Statements } from './statements.js';

const UNKNOWN: JobStatus = { known: false, running: false, numerator: 0, denominator: 0 };

/** What happened to a function's jobs, as this node saw it (see `functions`). */
export type Counts = { -readonly [K in keyof JobCounts]: number };

export function emptyCounts(): Counts {
  return {
    submitted: 0,
    coalesced: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    retried: 0,
    requeued: 0,
  };
}

/** Limits as PostgreSQL takes them: no limit is null (LIMIT NULL is LIMIT ALL). */
function limitOf(limit: number | undefined): number | null {
  return limit === undefined || limit === Infinity ? null : limit;
}

/** The read-only views of the whole queue, as queries. */
export class Views {
  private db(): Connections {
    return this.connections();
  }

  constructor(
    private readonly connections: () => Connections,
    private readonly st: Statements,
    private readonly cluster: () => string,
    /** What this node counted, by function. */
    private readonly counts: ReadonlyMap<string, Counts>,
  ) {}

  async status(handle: string): Promise<JobStatus> {
    const id = idOf(this.cluster(), handle);
    if (id === undefined) return UNKNOWN;
    const [row] = await this.db().query<{
      running: boolean;
      numerator: number;
      denominator: number;
    }>(this.st.status, [id]);
    if (row === undefined) return UNKNOWN;
    return {
      known: true,
      running: row.running,
      numerator: row.running ? row.numerator : 0,
      denominator: row.running ? row.denominator : 0,
    };
  }

  async statusByUnique(unique: string, functionName?: string): Promise<UniqueJobStatus> {
    const [row] =
      unique === ''
        ? []
        : await this.db().query<{
            id: string;
            running: boolean;
            numerator: number;
            denominator: number;
            waiting: number;
          }>(this.st.statusByUnique, [unique, functionName ?? null]);
    if (row === undefined) return { ...UNKNOWN, clientCount: 0, handle: undefined };
    return {
      known: true,
      running: row.running,
      numerator: row.running ? row.numerator : 0,
      denominator: row.running ? row.denominator : 0,
      // The nodes whose clients wait (each node's clients count once: a node waits once).
      clientCount: row.waiting,
      handle: handleOf(this.cluster(), row.id),
    };
  }

  /**
   * The queue's jobs by function (a scan of the hot table); `counts` are this node's own
   * (what it submitted, ended, reaped): each node's metrics count its share, summed across
   * nodes by whoever scrapes them, and no row is written per job for them.
   */
  /** The live nodes, oldest first, with the jobs each runs. */
  async nodes(): Promise<Omit<NodeInfo, 'self'>[]> {
    const rows = await this.db().query<{
      id: string;
      name: string;
      started_at: number;
      heartbeat_at: number;
      functions: string[];
      running: number;
    }>(this.st.nodes);
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      startedAt: Math.round(row.started_at),
      heartbeatAt: Math.round(row.heartbeat_at),
      running: row.running,
      functions: row.functions,
    }));
  }

  async functions(): Promise<FunctionStatus[]> {
    const rows = await this.db().query<{
      fn: string;
      total: number;
      running: number;
      high: number;
      normal: number;
      low: number;
      delayed: number;
    }>(this.st.functions);
    const result = new Map<string, FunctionStatus>();
    for (const row of rows) {
      result.set(row.fn, {
        functionName: row.fn,
        total: row.total,
        running: row.running,
        workers: 0,
        queued: { high: row.high, normal: row.normal, low: row.low },
        delayed: row.delayed,
        counts: { ...(this.counts.get(row.fn) ?? emptyCounts()) },
      });
    }
    for (const [name, counts] of this.counts) {
      if (result.has(name)) continue;
      result.set(name, {
        functionName: name,
        total: 0,
        running: 0,
        workers: 0,
        queued: { high: 0, normal: 0, low: 0 },
        delayed: 0,
        counts: { ...counts },
      });
    }
    return [...result.values()];
  }

  async jobs(filter: JobFilter): Promise<JobInfo[]> {
    const rows = await this.db().query<JobRow>(this.st.jobs[filter.state ?? 'all'], [
      filter.functionName ?? null,
      limitOf(filter.limit),
    ]);
    const cluster = this.cluster();
    return rows.map((row) => jobInfoOf(cluster, row));
  }

  async job(handle: string): Promise<JobInfo | undefined> {
    const id = idOf(this.cluster(), handle);
    if (id === undefined) return undefined;
    const [row] = await this.db().query<JobRow>(this.st.job, [id]);
    return row === undefined ? undefined : jobInfoOf(this.cluster(), row);
  }

  async outcome(handle: string): Promise<JobOutcome | undefined> {
    const id = idOf(this.cluster(), handle);
    if (id === undefined) return undefined;
    const [row] = await this.db().query<OutcomeRow>(this.st.outcome, [id]);
    return row === undefined ? undefined : outcomeOf(this.cluster(), row);
  }

  async outcomes(filter: OutcomeFilter): Promise<JobOutcome[]> {
    const rows = await this.db().query<OutcomeRow>(this.st.outcomes, [
      filter.functionName ?? null,
      filter.state ?? null,
      limitOf(filter.limit),
    ]);
    const cluster = this.cluster();
    return rows.map((row) => outcomeOf(cluster, row));
  }

  async outcomeCount(filter: Omit<OutcomeFilter, 'limit'>): Promise<number> {
    const [row] = await this.db().query<{ count: number }>(this.st.outcomeCount, [
      filter.functionName ?? null,
      filter.state ?? null,
    ]);
    return row?.count ?? 0;
  }
}
