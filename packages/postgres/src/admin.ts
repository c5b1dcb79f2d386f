import type {
  FunctionControl,
  FunctionLimits,
  JobPolicy,
  ScheduleInfo,
  ScheduleOptions,
} from '@geartrain/core';
import type { SubmitAnswer } from '@geartrain/core/transport';
import type { Connections } from './connections.js';
import { handleOf, idOf } from './rows.js';
import { scheduleInfoOf, type ScheduleRunner, type ScheduleRow } from './schedule-runner.js';
import { definitionOf } from './schedule-timing.js';
import type { Statements } from './statements.js';
import { priorityNumber } from './rows.js';

/** What the operations by hand need of their backend. */
export interface AdminHost {
  readonly st: Statements;
  db(): Connections;
  cluster(): string;
  nodeId(): string;
  readonly runner: ScheduleRunner;
  /** A running job of this node was cancelled: it drops it. */
  revokedHere(handle: string, attempt: number): void;
  /** A running job of another node was cancelled: that node is told. */
  revokeThere(node: string, handle: string, attempt: number): void;
  /** Jobs of these functions may be claimed now. */
  woken(names: string[]): void;
  cancelled(functionName: string): void;
  schedulesChanged(): void;
}

/**
 * Jobs, outcomes, settings and schedules changed by hand, each one statement (its answer
 * once committed). The settings are kept thin: one row per function in `functions`.
 */
export class Admin {
  constructor(private readonly host: AdminHost) {}

  async cancel(handle: string): Promise<boolean> {
    const host = this.host;
    const id = idOf(host.cluster(), handle);
    if (id === undefined) return false;
    const [row] = await host
      .db()
      .query<{ node: string | null; attempts: number; fn: string }>(host.st.cancel, [id]);
    if (row === undefined) return false;
    host.cancelled(row.fn);
    if (row.node === host.nodeId()) host.revokedHere(handle, row.attempts);
    else if (row.node !== null) host.revokeThere(row.node, handle, row.attempts);
    return true;
  }

  async retry(handle: string): Promise<SubmitAnswer | undefined> {
    const host = this.host;
    const id = idOf(host.cluster(), handle);
    if (id === undefined) return undefined;
    const [row] = await host
      .db()
      .query<{ found: number; live: string | null; fn: string | null }>(host.st.resubmit, [id]);
    if (row === undefined || row.found === 0) return undefined;
    if (row.live !== null) return { handle: handleOf(host.cluster(), row.live), coalesced: true };
    if (row.fn !== null) host.woken([row.fn]);
    return { handle, coalesced: false };
  }

  async discard(handle: string): Promise<boolean> {
    const host = this.host;
    const id = idOf(host.cluster(), handle);
    if (id === undefined) return false;
    return (await host.db().query(host.st.discard, [id])).length > 0;
  }

  async discardFailed(functionName: string): Promise<number> {
    const [row] = await this.host
      .db()
      .query<{ count: number }>(this.host.st.discardFailed, [functionName]);
    return row?.count ?? 0;
  }

  async setJobPolicy(functionName: string, policy: JobPolicy | null): Promise<void> {
    await this.host
      .db()
      .query(this.host.st.setPolicy, [
        functionName,
        policy === null ? null : JSON.stringify(policy),
      ]);
  }

  async jobPolicy(functionName: string): Promise<JobPolicy | null> {
    const [row] = await this.host
      .db()
      .query<{ policy: JobPolicy | null }>(this.host.st.policy, [functionName]);
    return row?.policy ?? null;
  }

  async setPaused(functionName: string, paused: boolean): Promise<void> {
    await this.host.db().query(this.host.st.setPaused, [functionName, paused]);
    if (!paused) this.host.woken([functionName]);
  }

  async setLimits(functionName: string, limits: FunctionLimits | null): Promise<void> {
    const rate = limits?.rate ?? null;
    await this.host
      .db()
      .query(this.host.st.setLimits, [
        functionName,
        limits?.concurrency ?? null,
        rate?.max ?? null,
        rate?.duration ?? null,
      ]);
    this.host.woken([functionName]);
  }

  async controls(): Promise<FunctionControl[]> {
    const rows = await this.host.db().query<{
      fn: string;
      paused: boolean;
      concurrency: number | null;
      rate_max: number | null;
      rate_ms: number | null;
    }>(this.host.st.controls);
    return rows.map((row) => ({
      functionName: row.fn,
      paused: row.paused,
      rate:
        row.rate_max === null || row.rate_ms === null
          ? null
          : { max: row.rate_max, duration: row.rate_ms },
      concurrency: row.concurrency,
    }));
  }

  async schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    const def = definitionOf(id, options, 64);
    const host = this.host;
    const [row] = await host
      .db()
      .query<ScheduleRow>(host.st.defineSchedule, [
        def.id,
        def.cron,
        def.every,
        def.timezone,
        def.functionName,
        def.payload,
        priorityNumber(def.priority),
        def.unique,
        def.catchUp,
      ]);
    host.runner.upsert(row!);
    host.schedulesChanged();
    return scheduleInfoOf(row!);
  }

  async unschedule(id: string): Promise<boolean> {
    const host = this.host;
    // A tick of it in flight is answered (and reported) before the schedule goes.
    await host.runner.remove(id);
    const rows = await host.db().query(host.st.removeSchedule, [id]);
    host.schedulesChanged();
    return rows.length > 0;
  }

  async schedules(): Promise<ScheduleInfo[]> {
    const rows = await this.host.db().query<ScheduleRow>(this.host.st.schedules);
    return rows.map(scheduleInfoOf);
  }
}
