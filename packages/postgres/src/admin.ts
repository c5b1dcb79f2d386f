import type { ScheduleInfo, ScheduleOptions, SettingsRecord } from '@geartrain/core';

import { scheduleDefinitionOf, type SubmitAnswer } from '@geartrain/core/transport';
import type { Connections } from './connections.js';
import { handleOf, idOf } from './rows.js';
import { scheduleInfoOf, type ScheduleRunner, type ScheduleRow } from './schedule-runner.js';
import type { Statements } from './statements.js';
import { priorityNumber } from './rows.js';

/** JSON has no Infinity (a retention of `all`): it is kept as the string 'Infinity'. */
function keepInfinity(_key: string, value: unknown): unknown {
  return value === Infinity ? 'Infinity' : value;
}

/** A record read back, each 'Infinity' a number again. */
function revived<T>(value: T): T {
  if (value === 'Infinity') return Infinity as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(revived) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revived(v)])) as T;
}

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
  /** The queue wrote updates of these jobs (a cancel's end): the nodes waiting are told. */
  updated(ids: readonly string[]): void;
  schedulesChanged(): void;
  /** A function's settings record was saved: the other nodes are told. */
  settingsChanged(functionName: string): void;
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
      .query<{ node: string | null; attempts: number; fn: string; watched: boolean }>(
        host.st.cancel,
        [id],
      );
    if (row === undefined) return false;
    host.cancelled(row.fn);
    if (row.watched) host.updated([id]);
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

  /** Keeps a function's record whole; its jobs may be claimable now (a resume, a limit). */
  async saveSettings(functionName: string, record: SettingsRecord): Promise<void> {
    const policy = {
      ...(record.attempts === undefined ? {} : { attempts: record.attempts }),
      ...(record.backoff === undefined ? {} : { backoff: record.backoff }),
      ...(record.keep === undefined ? {} : { keep: record.keep }),
    };
    await this.host
      .db()
      .query(this.host.st.saveSettings, [
        functionName,
        Object.keys(policy).length === 0 ? null : JSON.stringify(policy, keepInfinity),
        record.paused === true,
        record.concurrency ?? null,
        record.rate?.max ?? null,
        record.rate?.duration ?? null,
        record.maxQueue === undefined ? null : JSON.stringify(record.maxQueue, keepInfinity),
      ]);
    this.host.settingsChanged(functionName);
    if (record.paused !== true) this.host.woken([functionName]);
  }

  async settings(): Promise<SettingsRecord[]> {
    const rows = await this.host.db().query<{
      fn: string;
      policy: Pick<SettingsRecord, 'attempts' | 'backoff' | 'keep'> | null;
      paused: boolean;
      concurrency: number | null;
      rate_max: number | null;
      rate_ms: number | null;
      max_queue: SettingsRecord['maxQueue'] | null;
    }>(this.host.st.settings);
    return rows.map((row) =>
      revived({
        functionName: row.fn,
        ...(row.policy?.attempts === undefined ? {} : { attempts: row.policy.attempts }),
        ...(row.policy?.backoff === undefined ? {} : { backoff: row.policy.backoff }),
        ...(row.policy?.keep === undefined ? {} : { keep: row.policy.keep }),
        ...(row.rate_max === null || row.rate_ms === null
          ? {}
          : { rate: { max: row.rate_max, duration: row.rate_ms } }),
        ...(row.concurrency === null ? {} : { concurrency: row.concurrency }),
        ...(row.max_queue === null ? {} : { maxQueue: row.max_queue }),
        ...(row.paused ? { paused: true } : {}),
      }),
    );
  }

  async schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    // 64: gearmand's longest unique id, which a tick's `<unique>:<tick ms>` must fit.
    const def = scheduleDefinitionOf(id, options, 64);
    const host = this.host;
    const [row] = await host
      .db()
      .query<ScheduleRow>(host.st.defineSchedule, [
        def.id,
        def.cron,
        def.every,
        def.timezone,
        def.functionName,
        typeof def.payload === 'string' ? Buffer.from(def.payload) : def.payload,
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
