import type { FailReason, JobEvent } from '@geartrain/core';
import type {
  AttemptReport,
  ClaimedJob,
  ProgressReport,
  ReportOutcome,
} from '@geartrain/core/transport';
import type { ClaimRow } from './claims.js';
import type { Connections } from './connections.js';
import { fateOf, type Fate, type FateOptions, type Held } from './fates.js';
import type { Settings } from './options.js';
import { handleOf, keepsOf, priorityOf, retriesOf } from './rows.js';
import type { Orphan } from './session.js';
import type { Statements } from './statements.js';

/** What the queue counted since it opened (tests, metrics). */
export interface QueueStats {
  /** Reports that matched nothing: the attempt was no longer this node's. */
  stale: number;
  /** Reports tried again after a failure whose first try had committed (not stale). */
  repeated: number;
  /** Running jobs of dead nodes this node put back (or failed past their attempts). */
  recovered: number;
  /** Times this node found itself reaped (it gave up what it held). */
  reapedHere: number;
}

/** One attempt's row in the report statement's arrays. */
export interface Row {
  readonly held: Held;
  readonly handle: string;
  /** The node the fence names: this one, or a dead one whose job is recovered. */
  readonly node: string;
  readonly fate: Fate;
  /** The result or an exception's data, for the nodes that wait for the job (if any). */
  readonly endData: Buffer | null;
}

/** What the attempts need of the queue around them. */
export interface AttemptsHost {
  readonly st: Statements;
  readonly settings: Settings;
  db(): Connections;
  /** The cluster's handle prefix. */
  cluster(): string;
  /** This node's id (throws when the queue is closed). */
  node(): string;
  /** Outcomes were kept: the retention runs soon. */
  kept(): void;
  /** Ends whose fenced write matched: counted, and what they free is woken. */
  ended(rows: readonly Row[]): void;
  /** Ends of these jobs were written for the nodes that wait for them: they are told. */
  updated(ids: readonly string[]): void;
  /** These jobs were given back by a node none of whose clients waits any more. */
  abandoned(ids: readonly string[]): void;
  /** The node is told that it no longer holds an attempt. */
  revoked(handle: string, attempt: number, reason: FailReason): void;
  event(event: JobEvent): void;
  log(error: unknown, what: string): void;
}

/** Rows of one general report statement, at most (its lookups scan the batch per row). */
const REPORT_PART = 500;

/**
 * The attempts this node holds (claimed, not reported yet) and every write that ends one,
 * fenced by the job, the node and the attempt (issue 31, item 2): its own reports, the jobs
 * of dead nodes it puts back, and what it gives up when it finds itself reaped.
 */
export class Attempts {
  readonly stats: QueueStats = { stale: 0, repeated: 0, recovered: 0, reapedHere: 0 };
  /** Jobs this node claimed and has not reported, by handle. */
  private readonly held = new Map<string, Held>();
  /** Reports whose statement failed, by `handle:attempt`: their fate, when tried again. */
  private readonly inDoubt = new Map<string, Fate>();

  constructor(private readonly host: AttemptsHost) {}

  private heldOf(row: {
    id: string;
    fn: string;
    attempts: number;
    retry: unknown;
    policy: unknown;
    limited: boolean;
    watched: boolean | null;
  }): Held {
    const keeps = keepsOf(row.policy, this.host.settings.keep);
    return {
      id: row.id,
      functionName: row.fn,
      attempt: row.attempts,
      retries: retriesOf(row.retry) ?? retriesOf(row.policy),
      keepsCompleted: keeps.completed,
      keepsFailed: keeps.failed,
      limited: row.limited,
      watched: row.watched === true,
    };
  }

  /** A job claimed for this node: held until reported. */
  claimed(row: ClaimRow): ClaimedJob {
    const handle = handleOf(this.host.cluster(), row.id);
    this.held.set(handle, this.heldOf(row));
    return {
      handle,
      functionName: row.fn,
      unique: row.unique_key ?? '',
      payload: row.payload,
      priority: priorityOf(row.priority),
      reducer: row.reducer,
      attempt: row.attempts,
      relayed: row.relayed === true,
    };
  }

  private fateOptions(): FateOptions {
    const { maxRetries, outcomeDataLimit } = this.host.settings;
    return { maxRetries, outcomeDataLimit, random: Math.random, now: () => Date.now() };
  }

  async report(batch: readonly AttemptReport[]): Promise<readonly ReportOutcome[]> {
    const node = this.host.node();
    const options = this.fateOptions();
    const rows = batch.map((report): Row | null => {
      const held = this.held.get(report.handle);
      if (held === undefined || held.attempt !== report.attempt) return null;
      // A report tried again keeps the fate of its first try (its back-off, its error).
      const fate =
        (this.inDoubt.size === 0
          ? undefined
          : this.inDoubt.get(`${report.handle}:${report.attempt}`)) ??
        fateOf(held, report.end, options);
      const end = report.end;
      const endData = end.kind === 'complete' || end.kind === 'exception' ? end.data : null;
      return { held, handle: report.handle, node, fate, endData };
    });
    const sent = rows.filter((row): row is Row => row !== null);
    let missed: Set<string>;
    try {
      missed = await this.apply(sent);
    } catch (error) {
      // Committed or not, nobody can say: a repeat that finds its write done is not stale.
      for (const row of sent) this.inDoubt.set(`${row.handle}:${row.held.attempt}`, row.fate);
      throw error;
    }
    return rows.map((row): ReportOutcome => {
      if (row === null) {
        this.stats.stale++;
        return { state: 'stale' };
      }
      const doubtful =
        this.inDoubt.size > 0 && this.inDoubt.delete(`${row.handle}:${row.held.attempt}`);
      // Only this attempt's: the next attempt of a job given back may have been claimed
      // while this report was on its way (its answer then found this attempt's entry
      // replaced; deleting it stranded the new attempt, whose report was taken for stale).
      if (this.held.get(row.handle) === row.held) this.held.delete(row.handle);
      if (!missed.has(row.held.id)) {
        this.host.ended([row]);
        return row.fate.outcome;
      }
      if (doubtful) {
        // The fence finds the write of the first try, which committed: not a stale report.
        this.stats.repeated++;
        return row.fate.outcome;
      }
      this.stats.stale++;
      return { state: 'stale' };
    });
  }

  /** Runs the report statement; resolves with the job ids whose fenced write matched nothing. */
  private async apply(rows: readonly Row[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    if (rows.every((r) => r.fate.act === 'c' && !r.fate.keep && !r.held.watched)) {
      const done = await this.host
        .db()
        .query<{ id: string; watched: boolean }>(this.host.st.complete, [
          rows.map((r) => r.held.id),
          rows.map((r) => r.held.attempt),
          rows.map((r) => r.node),
        ]);
      const missed = new Set<string>();
      const watched = new Set<string>();
      for (const r of done) (r.watched ? watched : missed).add(r.id);
      if (watched.size === 0) return missed;
      // Nodes began to wait for these since the claim: the general statement ends them,
      // writing their ends for those nodes.
      const late = rows
        .filter((r) => watched.has(r.held.id))
        .map((r) => ({ ...r, held: { ...r.held, watched: true } }));
      for (const id of await this.applyGeneral(late)) missed.add(id);
      return missed;
    }
    return this.applyGeneral(rows);
  }

  /** The general statement, in parts; the nodes waiting for the jobs ended are told. */
  private async applyGeneral(rows: readonly Row[]): Promise<Set<string>> {
    // The general statement looks each row's values up by position (a scan of the batch per
    // row, see sql-jobs.ts): its batches go in parts of at most REPORT_PART rows.
    const missed = new Set<string>();
    for (let i = 0; i < rows.length; i += REPORT_PART) {
      const part = rows.slice(i, i + REPORT_PART);
      for (const id of await this.applyPart(part)) missed.add(id);
    }
    if (rows.some((r) => r.fate.keep)) this.host.kept();
    const told = rows.filter(
      (r) => r.held.watched && !missed.has(r.held.id) && (r.fate.act === 'c' || r.fate.act === 'f'),
    );
    if (told.length > 0) this.host.updated(told.map((r) => r.held.id));
    const left = rows.filter((r) => r.fate.act === 'a' && !missed.has(r.held.id));
    if (left.length > 0) this.host.abandoned(left.map((r) => r.held.id));
    return missed;
  }

  private async applyPart(rows: readonly Row[]): Promise<string[]> {
    const result = await this.host
      .db()
      .query<{ id: string }>(this.host.st.report, [
        rows.map((r) => r.held.id),
        rows.map((r) => r.held.attempt),
        rows.map((r) => r.fate.act),
        rows.map((r) => r.fate.delay),
        rows.map((r) => (r.fate.error === null ? null : JSON.stringify(r.fate.error))),
        rows.map((r) => r.fate.reason),
        rows.map((r) => r.fate.result),
        rows.map((r) => r.fate.truncated),
        rows.map((r) => r.fate.keep),
        rows.map((r) => r.node),
        rows.map((r) => (r.held.watched ? r.endData : null)),
      ]);
    return result.map((r) => r.id);
  }

  async progress(batch: readonly ProgressReport[]): Promise<void> {
    const node = this.host.node();
    const known = batch.flatMap((p) => {
      const held = this.held.get(p.handle);
      return held === undefined || held.attempt !== p.attempt ? [] : [{ held, p }];
    });
    if (known.length === 0) return;
    await this.host
      .db()
      .query(this.host.st.progress, [
        known.map(({ held }) => held.id),
        known.map(({ held }) => held.attempt),
        known.map(({ p }) => Math.trunc(p.numerator)),
        known.map(({ p }) => Math.trunc(p.denominator)),
        known.map(() => node),
      ]);
  }

  /** A job this node held was taken back: the node drops it, and reports nothing. */
  revoke(handle: string, attempt: number, reason: 'CANCELLED' | 'TIMEOUT'): void {
    const held = this.held.get(handle);
    if (held === undefined || held.attempt !== attempt) return;
    this.held.delete(handle);
    this.host.revoked(handle, attempt, reason);
  }

  /**
   * This node was reaped while away (a pause past the lease, a session lost for longer
   * than a heartbeat): the others took its jobs back. What it still holds is given up; a
   * fenced release of each (as a lost worker's) frees any claimed after the reaping, and
   * is stale otherwise.
   */
  giveUp(): void {
    this.stats.reapedHere++;
    const options = this.fateOptions();
    const node = this.host.node();
    const rows: Row[] = [];
    for (const [handle, held] of [...this.held]) {
      const fate = fateOf(held, { kind: 'lost' }, options);
      rows.push({ held, handle, node, fate, endData: null });
      this.revoke(handle, held.attempt, 'TIMEOUT');
    }
    this.apply(rows).then(
      (missed) => this.host.ended(rows.filter((row) => !missed.has(row.held.id))),
      (error: unknown) => this.host.log(error, 'give back the jobs of a reaped node'),
    );
  }

  /** The running jobs of dead nodes go back (an attempt counted), fenced by their node. */
  recover(orphans: readonly Orphan[]): void {
    const options = this.fateOptions();
    const rows: Row[] = orphans.map((orphan) => {
      const held = this.heldOf({ ...orphan });
      return {
        held,
        handle: handleOf(this.host.cluster(), orphan.id),
        node: orphan.node,
        fate: fateOf(held, { kind: 'lost' }, options),
        endData: null,
      };
    });
    this.apply(rows).then(
      (missed) => {
        const done = rows.filter((row) => !missed.has(row.held.id));
        this.stats.recovered += done.length;
        this.host.ended(done);
        for (const { handle, held, fate } of done) this.recovered(handle, held, fate);
      },
      (error: unknown) => this.host.log(error, 'give back the jobs of a dead node'),
    );
  }

  /** What this node reports of a dead node's job it put back, as a lost worker's. */
  private recovered(handle: string, held: Held, fate: Fate): void {
    const time = Date.now();
    const outcome = fate.outcome;
    if (outcome.state === 'queued') {
      this.host.event({ type: 'retried', time, handle, attempt: outcome.attempt });
    } else if (outcome.state === 'retrying') {
      const { reason, delay } = outcome;
      this.host.event({ type: 'retrying', time, handle, attempt: held.attempt, reason, delay });
    } else if (outcome.state === 'failed') {
      this.host.event({ type: 'failed', time, handle, reason: outcome.reason });
    }
  }
}
