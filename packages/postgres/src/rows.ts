import type {
  AttemptError,
  AttemptFailure,
  Backoff,
  FailReason,
  JobInfo,
  JobOutcome,
  JobPolicy,
  KeepLimit,
  Priority,
  Retention,
  Retries,
} from '@geartrain/core';

// Between the database's rows and the API's objects.

export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

export function priorityOf(value: number): Priority {
  return PRIORITIES[value] ?? 'normal';
}

export function priorityNumber(priority: Priority): number {
  const index = PRIORITIES.indexOf(priority);
  return index < 0 ? 1 : index;
}

/** Handles of the shared queue: `H:<cluster>:<id>`. */
export function handleOf(cluster: string, id: string): string {
  return `H:${cluster}:${id}`;
}

/** The job id of one of this cluster's handles, or undefined for any other string. */
export function idOf(cluster: string, handle: string): string | undefined {
  const prefix = `H:${cluster}:`;
  if (!handle.startsWith(prefix)) return undefined;
  const id = handle.slice(prefix.length);
  return /^[1-9][0-9]{0,17}$/.test(id) ? id : undefined;
}

/** An attempt's error as the `errors` column keeps it (JSON: the data in base64). */
export interface StoredError {
  readonly attempt: number;
  readonly reason: AttemptFailure;
  readonly message: string | null;
  readonly data: string | null;
  readonly name: string | null;
  readonly stack: string | null;
  readonly time: number;
}

export function storedError(e: AttemptError): StoredError {
  return { ...e, data: e.data === null ? null : e.data.toString('base64') };
}

export function attemptErrors(value: unknown): AttemptError[] {
  if (!Array.isArray(value)) return [];
  return (value as StoredError[]).map((e) => ({
    attempt: e.attempt,
    reason: e.reason,
    message: e.message ?? null,
    data: typeof e.data === 'string' ? Buffer.from(e.data, 'base64') : null,
    name: e.name ?? null,
    stack: e.stack ?? null,
    time: e.time,
  }));
}

/** A retry policy (a job's own, in `Retries` shape, or a function's `JobPolicy`), or null. */
export function retriesOf(value: unknown): Retries | null {
  if (value === null || typeof value !== 'object') return null;
  const policy = value as JobPolicy;
  if (policy.attempts === undefined && policy.backoff === undefined) return null;
  const given = policy.backoff;
  const backoff: Backoff =
    given === undefined
      ? { type: 'fixed', delay: 0 }
      : typeof given === 'number'
        ? { type: 'fixed', delay: given }
        : given;
  return { attempts: policy.attempts ?? 1, backoff };
}

/** Whether a retention keeps anything of one kind. */
function keeps(limit: KeepLimit | undefined): boolean {
  return limit !== undefined && limit.count !== 0 && limit.age !== 0;
}

/** Which ends a function keeps: its policy's `keep`, each kind else the default's. */
export function keepsOf(
  policy: unknown,
  defaults: Required<Retention>,
): { completed: boolean; failed: boolean } {
  const keep = (policy as JobPolicy | null)?.keep;
  return {
    completed: keeps(keep?.completed ?? defaults.completed),
    failed: keeps(keep?.failed ?? defaults.failed),
  };
}

export interface JobRow {
  id: string;
  fn: string;
  unique_key: string | null;
  priority: number;
  attempts: number;
  running: boolean;
  delayed: boolean;
  run_at: number;
  claimed_at: number | null;
  numerator: number;
  denominator: number;
  payload_size: number;
  errors: unknown;
  /** Only foreground submissions made it (a background one joined: false). */
  foreground: boolean;
  /** The node running it, or null. */
  node: string | null;
}

export function jobInfoOf(cluster: string, row: JobRow): JobInfo {
  const state = row.running ? 'running' : row.delayed ? 'delayed' : 'queued';
  const attempt = row.running ? row.attempts : row.attempts + 1;
  return {
    handle: handleOf(cluster, row.id),
    functionName: row.fn,
    unique: row.unique_key ?? '',
    priority: priorityOf(row.priority),
    background: !row.foreground,
    state,
    retries: attempt - 1,
    persisted: true,
    runAt: state === 'delayed' ? Math.round(row.run_at) : 0,
    attempt,
    numerator: row.running ? row.numerator : 0,
    denominator: row.running ? row.denominator : 0,
    startedAt: row.running && row.claimed_at !== null ? Math.round(row.claimed_at) : 0,
    worker: null,
    ...(row.node === null ? {} : { node: row.node }),
    payloadSize: row.payload_size,
    errors: attemptErrors(row.errors),
  };
}

export interface OutcomeRow {
  id: string;
  fn: string;
  unique_key: string | null;
  priority: number;
  state: 'completed' | 'failed';
  reason: string | null;
  result: Buffer | null;
  truncated: boolean;
  payload: Buffer;
  attempts: number;
  errors: unknown;
  queued_at: number;
  started_at: number | null;
  ended_at: number;
}

export function outcomeOf(cluster: string, row: OutcomeRow): JobOutcome {
  return {
    handle: handleOf(cluster, row.id),
    functionName: row.fn,
    unique: row.unique_key ?? '',
    priority: priorityOf(row.priority),
    state: row.state,
    reason: row.reason as FailReason | null,
    result: row.result,
    truncated: row.truncated,
    payload: row.payload,
    attempts: row.attempts,
    errors: attemptErrors(row.errors),
    queuedAt: Math.round(row.queued_at),
    startedAt: row.started_at === null ? 0 : Math.round(row.started_at),
    endedAt: Math.round(row.ended_at),
  };
}
