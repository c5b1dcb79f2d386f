import type { Connections } from './connections.js';
import type { Statements } from './statements.js';

/** One row of a claim's answer: a job (`j`), or a function asked for (`f`, `l`: limited). */
export interface ClaimRow {
  kind: 'j' | 'f' | 'l';
  id: string;
  fn: string;
  unique_key: string | null;
  payload: Buffer;
  priority: number;
  reducer: string;
  attempts: number;
  retry: unknown;
  policy: unknown;
  limited: boolean;
  /** ms until the function's next delayed job is due, or null. */
  due: number | null;
  /** A rate-limited function's starts within its window (ms, database clock), or null. */
  starts: number[] | null;
  rate_max: number | null;
  rate_ms: number | null;
  now_ms: number | null;
  /** A job's due time (s since 1970), for the order the node queues them in. */
  run_at: number | null;
  /** Nodes wait for the job's updates (a foreground job). */
  watched: boolean | null;
  /** Nodes other than this one wait for them: its updates are relayed. */
  relayed: boolean | null;
}

/** What a claim found: jobs, and when to ask again for functions that had none now. */
export interface ClaimAnswer {
  readonly jobs: ClaimRow[];
  /** Function → ms until a job of it may be claimed (a delayed job, a rate window). */
  readonly waits: Map<string, number>;
  /** Functions that got fewer jobs than asked. */
  readonly short: string[];
}

/**
 * A node's claims: one statement for the functions without limits (the common case); the
 * limited ones, which that statement names, in a second round trip under their lock.
 */
export class Claims {
  constructor(
    private readonly st: Statements,
    private readonly db: () => Connections,
    private readonly lockSpace: number,
  ) {}

  async claim(demand: ReadonlyMap<string, number>, node: string): Promise<ClaimAnswer> {
    const names = [...demand.keys()];
    const rows = await this.db().query<ClaimRow>(this.st.claim, [
      names,
      names.map((name) => demand.get(name)!),
      node,
    ]);
    const jobs: ClaimRow[] = [];
    const waits = new Map<string, number>();
    const limited: string[] = [];
    this.read(rows, jobs, waits, limited);
    if (limited.length > 0) {
      const [, limitedRows] = await this.db().transaction<ClaimRow>([
        { statement: this.st.limitLock, values: [limited, this.lockSpace] },
        {
          statement: this.st.claimLimited,
          values: [limited, limited.map((name) => demand.get(name)!), node],
        },
      ]);
      this.read(limitedRows!, jobs, waits, []);
      this.rateWaits(limitedRows!, jobs, demand, waits);
    }
    const got = new Map<string, number>();
    for (const job of jobs) got.set(job.fn, (got.get(job.fn) ?? 0) + 1);
    const short = rows
      .filter((row) => row.kind !== 'j' && (got.get(row.fn) ?? 0) < (demand.get(row.fn) ?? 0))
      .map((row) => row.fn);
    // In the order they would have been handed out: priority, then due time, then id.
    jobs.sort(
      (a, b) =>
        a.priority - b.priority ||
        a.run_at! - b.run_at! ||
        a.id.length - b.id.length ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    return { jobs, waits, short };
  }

  private read(rows: ClaimRow[], jobs: ClaimRow[], waits: Map<string, number>, limited: string[]) {
    for (const row of rows) {
      if (row.kind === 'j') jobs.push(row);
      else if (row.kind === 'l') limited.push(row.fn);
      else if (row.due !== null) waits.set(row.fn, row.due);
    }
  }

  /**
   * A rate-limited function that got fewer jobs than asked: when its window lets the next
   * one start (its oldest start in the window, plus the window).
   */
  private rateWaits(
    rows: ClaimRow[],
    jobs: ClaimRow[],
    demand: ReadonlyMap<string, number>,
    waits: Map<string, number>,
  ): void {
    for (const row of rows) {
      if (row.kind !== 'f' || row.rate_max === null || row.rate_ms === null) continue;
      const got = jobs.filter((job) => job.fn === row.fn).length;
      if (got >= (demand.get(row.fn) ?? 0)) continue;
      const now = row.now_ms!;
      const starts = [...(row.starts ?? []), ...new Array<number>(got).fill(now)];
      if (starts.length < row.rate_max) continue;
      const oldest = starts[starts.length - row.rate_max]!;
      const wait = Math.max(0, oldest + row.rate_ms - now);
      const known = waits.get(row.fn);
      if (known === undefined || wait < known) waits.set(row.fn, wait);
    }
  }
}
