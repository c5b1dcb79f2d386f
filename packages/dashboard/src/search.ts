import type { JobInfo, JobOutcome, JobServer } from '@geartrain/core';
import { shownMessage, shownText } from './snapshot.js';

/** A live job as the page's search shows it. */
export interface FoundJob {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly state: 'queued' | 'delayed' | 'running';
  readonly background: boolean;
  readonly attempt: number;
  readonly numerator: number;
  readonly denominator: number;
  readonly runAt: number;
  readonly startedAt: number;
  readonly worker: number | null;
}

/** A kept outcome as the page's search shows it: its bytes as capped text. */
export interface FoundOutcome {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly state: 'completed' | 'failed';
  readonly reason: string | null;
  readonly result: string | null;
  readonly attempts: number;
  /**
   * Each failed attempt: its error message (capped), and the class name and stack of the
   * error its handler threw (in process or in a thread), else null.
   */
  readonly errors: readonly {
    attempt: number;
    reason: string;
    error: string | null;
    name: string | null;
    stack: string | null;
  }[];
  readonly queuedAt: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** What `GET /api/job?q=` answers: the live job and/or the kept outcome under the name. */
export interface SearchResult {
  readonly query: string;
  /** How it was found: the query was a handle, or a unique id. */
  readonly by: 'handle' | 'unique' | null;
  readonly job: FoundJob | null;
  readonly outcome: FoundOutcome | null;
}

function foundJob(job: JobInfo): FoundJob {
  return {
    handle: job.handle,
    functionName: job.functionName,
    unique: job.unique,
    state: job.state,
    background: job.background,
    attempt: job.attempt,
    numerator: job.numerator,
    denominator: job.denominator,
    runAt: job.runAt,
    startedAt: job.startedAt,
    worker: job.worker,
  };
}

function foundOutcome(outcome: JobOutcome): FoundOutcome {
  return {
    handle: outcome.handle,
    functionName: outcome.functionName,
    unique: outcome.unique,
    state: outcome.state,
    reason: outcome.reason,
    result: shownText(outcome.result),
    attempts: outcome.attempts,
    errors: outcome.errors.map((e) => ({
      attempt: e.attempt,
      reason: e.reason,
      error: shownMessage(e.message),
      name: e.name,
      stack: e.stack,
    })),
    queuedAt: outcome.queuedAt,
    startedAt: outcome.startedAt,
    endedAt: outcome.endedAt,
  };
}

/**
 * Finds a job by handle first, then by unique id (of any function; a live job first, then
 * the newest kept outcome): the live job under the handle and the outcome kept under it,
 * either or both (a dead letter re-run by hand is both).
 */
export async function searchJob(server: JobServer, query: string): Promise<SearchResult> {
  const byHandle = async (handle: string) => {
    const [job, outcome] = await Promise.all([server.job(handle), server.outcome(handle)]);
    return { job: job ?? null, outcome: outcome ?? null };
  };
  let by: SearchResult['by'] = 'handle';
  let found = await byHandle(query);
  if (found.job === null && found.outcome === null) {
    // A live job by its unique id, else the newest kept outcome with it: a scan, but one a
    // person's search asks for, not one per update.
    const handle =
      (await server.statusByUnique(query)).handle ??
      (await server.outcomes()).findLast((o) => o.unique === query)?.handle;
    by = handle === undefined ? null : 'unique';
    if (handle !== undefined) found = await byHandle(handle);
  }
  return {
    query,
    by,
    job: found.job === null ? null : foundJob(found.job),
    outcome: found.outcome === null ? null : foundOutcome(found.outcome),
  };
}
