import type { Statement } from './connections.js';
import { NOW_MS } from './sql-jobs.js';

// Each function's settings, the schedules, and the retention of outcomes.

/**
 * Keeps a function's settings record whole (issue 30: one record per function): its retries
 * and retention as `policy`, its pause, its limits and its queue limits; what the record
 * lacks is put back to its default. The rate window's starts stay.
 */
export function saveSettingsStatement(s: string): Statement {
  return {
    name: 'gt_save_settings',
    text: `INSERT INTO ${s}.functions AS f
             (name, policy, paused, concurrency, rate_max, rate_ms, max_queue)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (name) DO UPDATE SET policy = EXCLUDED.policy, paused = EXCLUDED.paused,
             concurrency = EXCLUDED.concurrency, rate_max = EXCLUDED.rate_max,
             rate_ms = EXCLUDED.rate_ms, max_queue = EXCLUDED.max_queue`,
  };
}

/** Every function with a setting, by name. */
export function settingsStatement(s: string): Statement {
  return {
    name: 'gt_settings',
    text: `SELECT name AS fn, policy, paused, concurrency, rate_max, rate_ms, max_queue
           FROM ${s}.functions
           WHERE policy IS NOT NULL OR paused OR concurrency IS NOT NULL
              OR rate_max IS NOT NULL OR max_queue IS NOT NULL
           ORDER BY name`,
  };
}

const SCHEDULE_COLUMNS = `id, cron, every::float8 AS every, timezone, function_name AS fn, payload,
  priority, unique_key, catch_up, since, last_tick`;

/**
 * Defines a schedule. A redefinition with the same timing keeps its phase and last tick
 * (a config loaded at every start changes nothing); a new timing starts now, on the
 * database's clock.
 */
export function defineScheduleStatement(s: string): Statement {
  return {
    name: 'gt_define_schedule',
    text: `
      INSERT INTO ${s}.schedules AS o (id, cron, every, timezone, function_name, payload,
        priority, unique_key, catch_up, since)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, floor(${NOW_MS}))
      ON CONFLICT (id) DO UPDATE SET cron = EXCLUDED.cron, every = EXCLUDED.every,
        timezone = EXCLUDED.timezone, function_name = EXCLUDED.function_name,
        payload = EXCLUDED.payload, priority = EXCLUDED.priority,
        unique_key = EXCLUDED.unique_key, catch_up = EXCLUDED.catch_up,
        since = CASE WHEN o.cron IS NOT DISTINCT FROM EXCLUDED.cron
                      AND o.every IS NOT DISTINCT FROM EXCLUDED.every
                      AND o.timezone IS NOT DISTINCT FROM EXCLUDED.timezone
                 THEN o.since ELSE EXCLUDED.since END,
        last_tick = CASE WHEN o.cron IS NOT DISTINCT FROM EXCLUDED.cron
                          AND o.every IS NOT DISTINCT FROM EXCLUDED.every
                          AND o.timezone IS NOT DISTINCT FROM EXCLUDED.timezone
                     THEN o.last_tick ELSE NULL END
      RETURNING ${SCHEDULE_COLUMNS}`,
  };
}

export function removeScheduleStatement(s: string): Statement {
  return {
    name: 'gt_remove_schedule',
    text: `DELETE FROM ${s}.schedules WHERE id = $1 RETURNING 1 AS one`,
  };
}

export function schedulesStatement(s: string): Statement {
  return {
    name: 'gt_schedules',
    text: `SELECT ${SCHEDULE_COLUMNS}, ${NOW_MS} AS now_ms FROM ${s}.schedules ORDER BY id`,
  };
}

/**
 * A schedule's tick, submitted once for the cluster: the node whose compare-and-set of the
 * last tick wins inserts the tick's job (unique id `<unique>:<tick ms>`) in the same
 * statement, and reports it; the others find the tick taken and do nothing. `$3` is the
 * definition's phase: a tick of a definition replaced since is not submitted.
 */
export function tickStatement(s: string): Statement {
  return {
    name: 'gt_tick',
    text: `
      WITH adv AS (
        UPDATE ${s}.schedules SET last_tick = $2
        WHERE id = $1 AND since = $3 AND coalesce(last_tick, -1) < $2
        RETURNING function_name, payload, priority, unique_key || ':' || $2::bigint AS uniq
      ),
      ins AS (
        INSERT INTO ${s}.jobs AS j (id, function_name, unique_key, priority, run_at, payload)
        SELECT nextval('${s}.job_ids'), function_name, uniq, priority, now(), payload FROM adv
        ON CONFLICT (unique_key, function_name) WHERE unique_key IS NOT NULL
        DO UPDATE SET unique_key = EXCLUDED.unique_key
        RETURNING j.id, (j.xmax <> 0) AS coalesced, j.function_name
      )
      SELECT id::text AS id, coalesced, function_name AS fn FROM ins`,
  };
}

/**
 * Outcome retention in one bounded batch (at most 1,000 rows), by one node at a time (a
 * transaction-level advisory lock tried, not waited for): for each function and state, the
 * outcomes past the newest `count` or older than `age`, by the function's policy, else the
 * defaults (`$2`..`$5`: completed count and age, failed count and age; null: no limit).
 * Never a DELETE per row: the caller runs it again while it finds a full batch. The
 * (function, state) pairs are read by a skip scan of the index (one probe per pair, not a
 * scan of every outcome); `next_ms` says when the oldest outcome under an age limit passes
 * it, for the caller to come back then.
 */
export function retentionStatement(s: string): Statement {
  const limit = (state: string, field: 'count' | 'age', fallback: string) =>
    `CASE WHEN f.policy -> 'keep' -> '${state}' IS NOT NULL
          THEN (f.policy -> 'keep' -> '${state}' ->> '${field}')::float8 ELSE ${fallback} END`;
  return {
    name: 'gt_retention',
    text: `
      WITH RECURSIVE lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtext($1)) AS got),
      pairs AS (
        (SELECT function_name, state FROM ${s}.outcomes WHERE (SELECT got FROM lock)
         ORDER BY function_name, state LIMIT 1)
        UNION ALL
        SELECT x.function_name, x.state FROM pairs p CROSS JOIN LATERAL (
          SELECT o.function_name, o.state FROM ${s}.outcomes o
          WHERE (o.function_name, o.state) > (p.function_name, p.state)
          ORDER BY o.function_name, o.state LIMIT 1) x
      ),
      rules AS MATERIALIZED (
        SELECT p.function_name, p.state,
          CASE p.state WHEN 'completed' THEN ${limit('completed', 'count', '$2::float8')}
                       ELSE ${limit('failed', 'count', '$4::float8')} END AS keep_count,
          CASE p.state WHEN 'completed' THEN ${limit('completed', 'age', '$3::float8')}
                       ELSE ${limit('failed', 'age', '$5::float8')} END AS keep_age
        FROM pairs p LEFT JOIN ${s}.functions f ON f.name = p.function_name
      ),
      victims AS (
        SELECT x.id FROM rules r CROSS JOIN LATERAL (
          (SELECT id FROM ${s}.outcomes o
           WHERE o.function_name = r.function_name AND o.state = r.state
           ORDER BY ended_at DESC, id DESC
           OFFSET least(coalesce(r.keep_count, 9e18), 9e18)::bigint LIMIT 1000)
          UNION
          (SELECT id FROM ${s}.outcomes o
           WHERE o.function_name = r.function_name AND o.state = r.state
             AND r.keep_age < 1e14
             AND o.ended_at < now() - r.keep_age * interval '1 millisecond'
           LIMIT 1000)
        ) x
        LIMIT 1000
      ),
      gone AS (DELETE FROM ${s}.outcomes WHERE id IN (SELECT id FROM victims) RETURNING 1),
      expiry AS (
        SELECT min(extract(epoch from (o.oldest + r.keep_age * interval '1 millisecond' - now()))
                   * 1000)::float8 AS ms
        FROM rules r CROSS JOIN LATERAL (
          SELECT min(ended_at) AS oldest FROM ${s}.outcomes o
          WHERE o.function_name = r.function_name AND o.state = r.state) o
        WHERE r.keep_age < 1e14
      )
      SELECT (SELECT got FROM lock) AS got, (SELECT count(*) FROM gone)::int AS deleted,
             (SELECT ms FROM expiry) AS next_ms`,
  };
}

/** A NOTIFY of the queue's channel (its payload JSON), sent on its own after a commit. */
export function notifyStatement(): Statement {
  return { name: 'gt_notify', text: 'SELECT pg_notify($1, $2)' };
}
