import type { Statement } from './connections.js';

// The read-only views of the whole queue, and the jobs and outcomes changed by hand.

const MS = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

/** The columns a JobInfo is made of. */
const JOB_COLUMNS = `
  id::text AS id, function_name AS fn, unique_key, priority, attempts,
  (node IS NOT NULL) AS running, (node IS NULL AND run_at > now()) AS delayed,
  ${MS('run_at')} AS run_at, ${MS('claimed_at')} AS claimed_at,
  numerator::float8 AS numerator, denominator::float8 AS denominator,
  octet_length(payload) AS payload_size, errors, foreground, node::text AS node`;

export function statusStatement(s: string): Statement {
  return {
    name: 'gt_status',
    text: `SELECT (node IS NOT NULL) AS running, numerator::float8 AS numerator,
                  denominator::float8 AS denominator
           FROM ${s}.jobs WHERE id = $1`,
  };
}

export function statusByUniqueStatement(s: string): Statement {
  return {
    name: 'gt_status_unique',
    text: `SELECT id::text AS id, (node IS NOT NULL) AS running, numerator::float8 AS numerator,
                  denominator::float8 AS denominator,
                  coalesce(cardinality(watchers), 0) AS waiting
           FROM ${s}.jobs
           WHERE unique_key = $1 AND ($2::text IS NULL OR function_name = $2)
           ORDER BY id LIMIT 1`,
  };
}

/** Counts per function: a scan of the hot table (queued and running jobs only). */
export function functionsStatement(s: string): Statement {
  return {
    name: 'gt_functions',
    text: `SELECT function_name AS fn, count(*)::int AS total,
                  count(*) FILTER (WHERE node IS NOT NULL)::int AS running,
                  count(*) FILTER (WHERE node IS NULL AND priority = 0)::int AS high,
                  count(*) FILTER (WHERE node IS NULL AND priority = 1)::int AS normal,
                  count(*) FILTER (WHERE node IS NULL AND priority = 2)::int AS low,
                  count(*) FILTER (WHERE node IS NULL AND run_at > now())::int AS delayed
           FROM ${s}.jobs GROUP BY function_name ORDER BY function_name`,
  };
}

/** Live jobs in one state (or all), in that state's order; `$1` function or null, `$2` limit. */
export function jobsStatement(
  s: string,
  state: 'queued' | 'delayed' | 'running' | 'all',
): Statement {
  const where = {
    queued: 'node IS NULL AND run_at <= now()',
    delayed: 'node IS NULL AND run_at > now()',
    running: 'node IS NOT NULL',
    all: 'true',
  }[state];
  const order = {
    queued: 'priority, run_at, id',
    delayed: 'run_at, id',
    running: 'claimed_at, id',
    all: '(node IS NULL), (run_at > now()), priority, run_at, id',
  }[state];
  return {
    name: `gt_jobs_${state}`,
    text: `SELECT ${JOB_COLUMNS} FROM ${s}.jobs
           WHERE ($1::text IS NULL OR function_name = $1) AND ${where}
           ORDER BY ${order} LIMIT $2`,
  };
}

export function jobStatement(s: string): Statement {
  return { name: 'gt_job', text: `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = $1` };
}

const OUTCOME_COLUMNS = `
  id::text AS id, function_name AS fn, unique_key, priority, state, reason, result, truncated,
  payload, attempts, errors, ${MS('queued_at')} AS queued_at, ${MS('started_at')} AS started_at,
  ${MS('ended_at')} AS ended_at`;

export function outcomeStatement(s: string): Statement {
  return {
    name: 'gt_outcome',
    text: `SELECT ${OUTCOME_COLUMNS} FROM ${s}.outcomes WHERE id = $1`,
  };
}

/** Kept outcomes, oldest end first; with `$3`, only the newest that many. */
export function outcomesStatement(s: string): Statement {
  return {
    name: 'gt_outcomes',
    text: `SELECT * FROM (
             SELECT ${OUTCOME_COLUMNS} FROM ${s}.outcomes
             WHERE ($1::text IS NULL OR function_name = $1) AND ($2::text IS NULL OR state = $2)
             ORDER BY ended_at DESC, id DESC LIMIT $3) AS newest
           ORDER BY ended_at, id::bigint`,
  };
}

export function outcomeCountStatement(s: string): Statement {
  return {
    name: 'gt_outcome_count',
    text: `SELECT count(*)::int AS count FROM ${s}.outcomes
           WHERE ($1::text IS NULL OR function_name = $1) AND ($2::text IS NULL OR state = $2)`,
  };
}

/** Cancels a live job: gone from the hot table; the node running it is told (`node`). */
export function cancelStatement(s: string): Statement {
  return {
    name: 'gt_cancel',
    text: `
      WITH gone AS (
        DELETE FROM ${s}.jobs WHERE id = $1
        RETURNING id, node, attempts, function_name AS fn, watchers
      ),
      told AS (
        INSERT INTO ${s}.updates (job, kind, reason)
        SELECT id, 'fail', 'CANCELLED' FROM gone WHERE watchers IS NOT NULL
      )
      SELECT node, attempts, fn, watchers IS NOT NULL AS watched FROM gone`,
  };
}

/**
 * Runs a dead letter again under its handle, from a fresh attempt count: its outcome goes
 * back into the hot table in one statement. When a live job holds its unique id now, that
 * job is the answer (Gearman's rule) and the dead letter stays.
 */
export function resubmitStatement(s: string): Statement {
  return {
    name: 'gt_resubmit',
    text: `
      WITH o0 AS (SELECT * FROM ${s}.outcomes WHERE id = $1 AND state = 'failed'),
      live AS (
        SELECT j.id FROM ${s}.jobs j JOIN o0
          ON j.unique_key = o0.unique_key AND j.function_name = o0.function_name
      ),
      o AS (
        DELETE FROM ${s}.outcomes WHERE id = $1 AND state = 'failed'
          AND NOT EXISTS (SELECT 1 FROM live)
        RETURNING *
      ),
      ins AS (
        INSERT INTO ${s}.jobs (id, function_name, unique_key, priority, run_at, payload, reducer,
                              retry)
        SELECT id, function_name, unique_key, priority, now(), payload, reducer, retry FROM o
        RETURNING function_name
      )
      SELECT (SELECT count(*) FROM o0)::int AS found, (SELECT id::text FROM live LIMIT 1) AS live,
             (SELECT function_name FROM ins) AS fn`,
  };
}

export function discardStatement(s: string): Statement {
  return { name: 'gt_discard', text: `DELETE FROM ${s}.outcomes WHERE id = $1 RETURNING 1 AS one` };
}

export function discardFailedStatement(s: string): Statement {
  return {
    name: 'gt_discard_failed',
    text: `WITH d AS (DELETE FROM ${s}.outcomes WHERE function_name = $1 AND state = 'failed'
                     RETURNING 1)
           SELECT count(*)::int AS count FROM d`,
  };
}
