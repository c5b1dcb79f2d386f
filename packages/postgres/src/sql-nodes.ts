import type { Statement } from './connections.js';
import { NOW_MS } from './sql-jobs.js';

/** A timestamp as ms since 1970. */
const MS = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

// Liveness: each node's row and its session lock, the heartbeat, and the reaper.

/** The session advisory lock of a node: (the schema's key, the node's lock id). */
const LOCK_HELD = `
  EXISTS (SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = $3::int::oid AND l.objid = n.lock_id::oid)`;

/**
 * Registers this node (`$1` id, `$2` name, `$3` the schema's lock key) and takes its
 * session lock in the same statement: no other node's reaper can see the row without the
 * lock. Run on the node's own session; `existed` says the row was there (a reconnection in
 * time) rather than made (a start, or after being reaped).
 */
export function registerStatement(s: string): Statement {
  return {
    name: 'gt_register',
    text: `
      WITH n AS (
        INSERT INTO ${s}.nodes AS n (id, name, lock_id)
        VALUES ($1, $2, nextval('${s}.node_locks')::int)
        ON CONFLICT (id) DO UPDATE SET lock_id = EXCLUDED.lock_id, heartbeat_at = now()
        RETURNING n.lock_id, (n.xmax <> 0) AS existed
      )
      SELECT pg_advisory_lock($3::int, lock_id) IS NOT NULL AS locked, existed,
             ${NOW_MS} AS now_ms FROM n`,
  };
}

/**
 * The heartbeat and the reaper in one statement, about once a second on every node: this
 * node's heartbeat is written (`alive` 0: it was reaped); nodes whose session lock is gone
 * (the process died: kill -9) or whose heartbeat is older than the lease (`$2` ms: a hung
 * process, a lost network) are deleted; the running jobs of nodes that are gone are
 * returned, for the caller to put back through the fenced report (their attempt counted).
 * Two reapers deleting the same node: one waits for the other's row lock and then finds it
 * gone, so only one returns its jobs. It is also the node's backstop: of the functions
 * whose last claim found too few jobs (`$4`), those that have runnable jobs now (a
 * notification lost while the session was down) are returned, three index probes each (a
 * limited function's too: a claim finds out whether its limit lets one start). It writes
 * the functions this node's workers can do (`$5`), for the cluster's view of its nodes.
 */
export function heartbeatStatement(s: string): Statement {
  return {
    name: 'gt_heartbeat',
    text: `
      WITH me AS (
        UPDATE ${s}.nodes SET heartbeat_at = now(), functions = coalesce($5::text[], functions)
        WHERE id = $1 RETURNING id
      ),
      dead AS (
        DELETE FROM ${s}.nodes n
        WHERE n.id <> $1
          AND (n.heartbeat_at < now() - $2::float8 * interval '1 millisecond'
               OR NOT ${LOCK_HELD})
        RETURNING n.id
      ),
      orphans AS (
        SELECT j.id::text AS id, j.node, j.attempts, j.function_name AS fn, j.retry, f.policy,
               coalesce(f.concurrency IS NOT NULL OR f.rate_max IS NOT NULL, false) AS limited,
               j.watchers IS NOT NULL AS watched
        FROM ${s}.jobs j LEFT JOIN ${s}.functions f ON f.name = j.function_name
        WHERE j.node IS NOT NULL AND j.node <> $1
          AND (j.node IN (SELECT id FROM dead)
               OR NOT EXISTS (SELECT 1 FROM ${s}.nodes n WHERE n.id = j.node))
      )
      SELECT (SELECT count(*) FROM me)::int AS alive, ${NOW_MS} AS now_ms,
             (SELECT count(*) FROM dead)::int AS reaped,
             (SELECT json_agg(o) FROM orphans o) AS orphans,
             ARRAY(SELECT l.fn FROM unnest($4::text[]) AS l(fn)
                   WHERE NOT EXISTS (SELECT 1 FROM ${s}.functions f
                                     WHERE f.name = l.fn AND f.paused)
                     AND EXISTS (SELECT 1 FROM (VALUES (0::smallint), (1::smallint), (2::smallint))
                                   AS p(pr)
                                 WHERE EXISTS (SELECT 1 FROM ${s}.jobs j
                                               WHERE j.function_name = l.fn AND j.node IS NULL
                                                 AND j.priority = p.pr AND j.run_at <= now())))
               AS ready`,
  };
}

/** The live nodes, with the jobs each runs (the running jobs' index, one probe each). */
export function nodesStatement(s: string): Statement {
  return {
    name: 'gt_nodes',
    text: `
      SELECT id::text AS id, name, ${MS('started_at')} AS started_at,
             ${MS('heartbeat_at')} AS heartbeat_at, functions,
             (SELECT count(*) FROM ${s}.jobs j WHERE j.node = n.id)::int AS running
      FROM ${s}.nodes n ORDER BY started_at, id`,
  };
}

/** A node leaves: its row goes (its running jobs were given back before). */
export function leaveStatement(s: string): Statement {
  return { name: 'gt_leave', text: `DELETE FROM ${s}.nodes WHERE id = $1` };
}
