import type { JobInfo, JobOutcome, JobServer } from '@geartrain/core';
import { checkJobServer, checkOptions } from '@geartrain/core/transport';

/** How many rows of each list a snapshot carries; the totals say how many there are. */
export interface SnapshotLimits {
  /** Running jobs, longest running first. Default 100. */
  readonly running?: number;
  /** Delayed jobs, earliest first. Default 100. */
  readonly delayed?: number;
  /** Failed jobs kept (dead letters), newest first. Default 100. */
  readonly failed?: number;
  /** Connections. Default 200. */
  readonly workers?: number;
  /** Schedules, next tick first. Default 200. */
  readonly schedules?: number;
  /** Nodes of a shared queue, oldest first. Default 100. */
  readonly nodes?: number;
}

export interface FunctionRow {
  readonly name: string;
  readonly queued: number;
  readonly delayed: number;
  readonly running: number;
  readonly workers: number;
  readonly paused: boolean;
  readonly completed: number;
  readonly failed: number;
}

export interface RunningRow {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly attempt: number;
  readonly numerator: number;
  readonly denominator: number;
  readonly startedAt: number;
  readonly worker: number | null;
  /** On a shared queue, the name of the node running it (its id when it left the list). */
  readonly node: string | null;
}

export interface DelayedRow {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly runAt: number;
  readonly attempt: number;
}

export interface FailedRow {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly reason: string | null;
  readonly attempts: number;
  readonly endedAt: number;
  /** The last attempt's error message (capped), or null. */
  readonly error: string | null;
  /** The class name of the error its handler threw (in process or in a thread), or null. */
  readonly errorName: string | null;
}

export interface WorkerRow {
  readonly id: number;
  readonly address: string;
  readonly clientId: string;
  readonly functions: readonly string[];
}

/** A node of the server's queue (one for a local queue). */
export interface NodeRow {
  readonly id: string;
  readonly name: string;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly running: number;
  readonly functions: readonly string[];
  /** The node serving the page. */
  readonly self: boolean;
}

export interface ScheduleRow {
  readonly id: string;
  readonly functionName: string;
  readonly timing: string;
  readonly nextTick: number | null;
  readonly lastTick: number | null;
}

/** What the page shows at one moment: JSON-ready, bounded in size whatever the load. */
export interface DashboardSnapshot {
  /** The server's clock (ms), which every time in the snapshot is on. */
  readonly time: number;
  readonly totals: {
    readonly functions: number;
    readonly queued: number;
    readonly delayed: number;
    readonly running: number;
    readonly workers: number;
    readonly failed: number;
    readonly schedules: number;
    readonly nodes: number;
  };
  /** Whether the queue is shared by several nodes (the page then says which runs what). */
  readonly shared: boolean;
  readonly nodes: readonly NodeRow[];
  readonly functions: readonly FunctionRow[];
  readonly running: readonly RunningRow[];
  readonly delayed: readonly DelayedRow[];
  readonly failed: readonly FailedRow[];
  readonly workers: readonly WorkerRow[];
  readonly schedules: readonly ScheduleRow[];
}

/** Text the page shows of a result or an exception (the outcome keeps more). */
const SHOWN_CHARS = 200;

/** Bytes as the page shows them: the first characters of their UTF-8 text, or null. */
export function shownText(data: Buffer | null): string | null {
  return data === null ? null : data.toString('utf8', 0, SHOWN_CHARS);
}

/** A message as the page shows it: its first characters, or null. */
export function shownMessage(message: string | null): string | null {
  return message === null ? null : message.slice(0, SHOWN_CHARS);
}
/** Functions listed per worker row (a worker may register thousands). */
const FUNCTIONS_PER_WORKER = 20;

/**
 * The page's view of a server, from its queries only: every function (the page's main
 * table), and the first rows of each job list, so that it stays small and quick with ten
 * thousand running jobs (the benchmark measures it). The queries are asked together (a
 * shared queue answers each after a round trip); the time is read once they answered.
 */
export async function takeSnapshot(
  server: JobServer,
  limits: SnapshotLimits = {},
): Promise<DashboardSnapshot> {
  checkJobServer(server);
  checkOptions(limits, 'limits');
  const [configured, functionStatus, schedules, failedCount, running, delayed, failed, nodes] =
    await Promise.all([
      server.configured(),
      server.functions(),
      server.schedules(),
      server.outcomeCount({ state: 'failed' }),
      server.jobs({ state: 'running', limit: limits.running ?? 100 }),
      server.jobs({ state: 'delayed', limit: limits.delayed ?? 100 }),
      server.outcomes({ state: 'failed', limit: limits.failed ?? 100 }),
      server.nodes(),
    ]);
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  // Whether a function is paused is its settings record's to say.
  const paused = new Set(configured.filter((s) => s.paused).map((s) => s.functionName));
  const totals = { queued: 0, delayed: 0, running: 0 };
  const functions = functionStatus.map((f): FunctionRow => {
    const queued = f.queued.high + f.queued.normal + f.queued.low - f.delayed;
    totals.queued += queued;
    totals.delayed += f.delayed;
    totals.running += f.running;
    return {
      name: f.functionName,
      queued,
      delayed: f.delayed,
      running: f.running,
      workers: f.workers,
      paused: paused.has(f.functionName),
      completed: f.counts.completed,
      failed: f.counts.failed,
    };
  });
  const connections = server.connections();
  return {
    time: server.scheduler.now(),
    totals: {
      functions: functions.length,
      ...totals,
      workers: connections.length,
      failed: failedCount,
      schedules: schedules.length,
      nodes: nodes.length,
    },
    shared: server.node.shared,
    nodes: nodes.slice(0, limits.nodes ?? 100).map((n) => ({
      id: n.id,
      name: n.name,
      startedAt: n.startedAt,
      heartbeatAt: n.heartbeatAt,
      running: n.running,
      functions: n.functions.slice(0, FUNCTIONS_PER_WORKER),
      self: n.self,
    })),
    functions,
    running: running.map((job) => runningRow(job, nodeNames)),
    delayed: delayed.map(delayedRow),
    failed: failed.reverse().map(failedRow),
    workers: connections.slice(0, limits.workers ?? 200).map((c) => ({
      id: c.id,
      address: c.address,
      clientId: c.clientId,
      functions: c.functions.slice(0, FUNCTIONS_PER_WORKER),
    })),
    schedules: schedules
      .sort((a, b) => (a.nextTick ?? Infinity) - (b.nextTick ?? Infinity))
      .slice(0, limits.schedules ?? 200)
      .map((s) => ({
        id: s.id,
        functionName: s.functionName,
        timing:
          s.cron !== null
            ? `${s.cron}${s.timezone !== null ? ` (${s.timezone})` : ''}`
            : `every ${s.every} ms`,
        nextTick: s.nextTick,
        lastTick: s.lastTick,
      })),
  };
}

function runningRow(job: JobInfo, nodeNames: ReadonlyMap<string, string>): RunningRow {
  return {
    handle: job.handle,
    functionName: job.functionName,
    unique: job.unique,
    attempt: job.attempt,
    numerator: job.numerator,
    denominator: job.denominator,
    startedAt: job.startedAt,
    worker: job.worker,
    node: job.node === undefined ? null : (nodeNames.get(job.node) ?? job.node),
  };
}

function delayedRow(job: JobInfo): DelayedRow {
  return {
    handle: job.handle,
    functionName: job.functionName,
    unique: job.unique,
    runAt: job.runAt,
    attempt: job.attempt,
  };
}

function failedRow(outcome: JobOutcome): FailedRow {
  const last = outcome.errors[outcome.errors.length - 1];
  return {
    handle: outcome.handle,
    functionName: outcome.functionName,
    unique: outcome.unique,
    reason: outcome.reason,
    attempts: outcome.attempts,
    endedAt: outcome.endedAt,
    error: last === undefined ? null : shownMessage(last.message),
    errorName: last?.name ?? null,
  };
}
