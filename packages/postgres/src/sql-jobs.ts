import type { Statement } from './connections.js';

// The statements of the hot path, one each per batch: submit, claim, report, progress.
// `s` is the schema, quoted. Priorities are 0 (high), 1 (normal), 2 (low).
//
// No fenced write joins the hot table to its batch. The planner orders a join by the
// table's statistics, and a queue's are often wrong: a VACUUM or ANALYZE that runs while
// the queue is empty (a healthy queue's usual state) records no rows, and the estimate
// stays near zero however many jobs come after, until the next ANALYZE. With a join, the
// planner then drove the write from a scan of the whole table (or of a node's running jobs),
// the batch scanned again for each row: 220 ms for 985 completions, 16.9 s for 1,512 jobs
// given back, a node's throughput down from 36,000 to 6,000 jobs a second. So each write
// finds its rows by `id = ANY(ids)` (the primary key, or a sequential scan whose cost the
// table's real size sets) and checks the fence, (id, attempt, node), in a hashed subplan
// written `NOT (… NOT IN …)`: PostgreSQL pulls an `IN` up into a join, never a `NOT`, and
// folds the two negations once that choice is made. A job without a node (queued) fails
// the fence, as it should.

/** ms since 1970 on the database's clock, as a JavaScript number. */
export const NOW_MS = `(extract(epoch from now()) * 1000)::float8`;

/**
 * A turn's submissions in one statement. Ids are taken from the sequence first (a fenced
 * CTE), so that each answer is matched to its submission by id, or by (function, unique id)
 * for one with a unique id: nothing relies on the order RETURNING gives rows in. The two
 * kinds are matched apart (two hash joins): one join on a CASE was a nested loop, 354 ms for
 * 2,000 submissions against 41 ms. A unique id that is live (queued, delayed or running)
 * coalesces through the partial unique index; the no-op update makes the existing row come
 * back with `xmax <> 0` (River's way). Delays are counted on the database's clock. A
 * function with queue limits (`max_queue`) takes, per priority, as many as it has room for
 * among its live jobs; the others get no answer row (QUEUE_FULL). The count is this
 * statement's snapshot: submissions on several nodes at once may pass a limit by what they
 * send together. In a batch with foreground submissions (`foreground`), one (`$10`) names
 * this node (`$9`) among the job's watchers, new or coalesced; a job stays `foreground`
 * (`$8`: dropped when nobody waits) only while no background submission joined it. The answer names the node running a job
 * coalesced onto, to be told to pass its updates on.
 */
export function submitStatement(s: string, foreground: boolean): Statement {
  // A batch with no foreground submission (the bulk of them) sends neither the foreground
  // arrays nor the node, nor writes the columns: 7% of a bulk enqueue's time (bench).
  const fgArrays = foreground ? ', $8::bool[], $10::bool[]' : '';
  const fgNames = foreground ? ', fg, watch' : '';
  const fgColumns = foreground ? ',\n           foreground, watchers' : '';
  const fgValues = foreground ? ', fg, CASE WHEN watch THEN ARRAY[$9::uuid] END' : '';
  const fgUpdate = foreground
    ? `foreground = j.foreground AND EXCLUDED.foreground,
          watchers = CASE WHEN EXCLUDED.watchers IS NULL OR j.watchers @> EXCLUDED.watchers
                     THEN j.watchers ELSE coalesce(j.watchers, '{}') || EXCLUDED.watchers END`
    : 'foreground = false';
  return {
    name: foreground ? 'gt_submit_fg' : 'gt_submit',
    text: `
      WITH input AS MATERIALIZED (
        SELECT nextval('${s}.job_ids') AS id, i.*
        FROM unnest($1::text[], $2::bytea[], $3::text[], $4::smallint[], $5::float8[],
                    $6::text[], $7::jsonb[]${fgArrays})
          WITH ORDINALITY AS i(fn, payload, uniq, priority, delay, reducer, retry${fgNames}, ord)
      ),
      room AS MATERIALIZED (
        SELECT f.name AS fn, p.pr,
               (f.max_queue ->> p.key)::int - (SELECT count(*) FROM ${s}.jobs j
                 WHERE j.function_name = f.name AND j.priority = p.pr) AS left
        FROM ${s}.functions f
        CROSS JOIN (VALUES (0::smallint, 'high'), (1::smallint, 'normal'), (2::smallint, 'low'))
          AS p(pr, key)
        WHERE f.max_queue IS NOT NULL AND f.name IN (SELECT fn FROM input)
          AND coalesce((f.max_queue ->> p.key)::int, 0) > 0
      ),
      refused AS MATERIALIZED (
        SELECT r.ord FROM (
          SELECT i.*, row_number() OVER (PARTITION BY i.fn, i.priority ORDER BY i.ord) AS rank
          FROM input i WHERE i.fn IN (SELECT fn FROM room)
        ) r JOIN room ON room.fn = r.fn AND room.pr = r.priority
        WHERE r.rank > room.left
          AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j
                          WHERE j.unique_key = r.uniq AND j.function_name = r.fn)
      ),
      ins AS (
        INSERT INTO ${s}.jobs AS j
          (id, function_name, unique_key, priority, run_at, payload, reducer, retry${fgColumns})
        SELECT id, fn, uniq, priority, now() + delay * interval '1 millisecond', payload,
               reducer, retry${fgValues}
        FROM input WHERE ord NOT IN (SELECT ord FROM refused) ORDER BY ord
        ON CONFLICT (unique_key, function_name) WHERE unique_key IS NOT NULL
        DO UPDATE SET unique_key = EXCLUDED.unique_key,
          ${fgUpdate}
        RETURNING j.id, (j.xmax <> 0) AS coalesced, j.function_name, j.unique_key, j.node
      )
      SELECT input.ord::int AS ord, ins.id::text AS id, ins.coalesced, ins.node::text AS node
      FROM input JOIN ins ON ins.id = input.id
      WHERE input.uniq IS NULL
      UNION ALL
      SELECT input.ord::int, ins.id::text, ins.coalesced, ins.node::text
      FROM input JOIN ins ON ins.unique_key = input.uniq AND ins.function_name = input.fn
      WHERE input.uniq IS NOT NULL`,
  };
}

/**
 * The jobs of one priority for each function of `d`, locked as they are read (`FOR UPDATE
 * SKIP LOCKED` under a LIMIT in a LATERAL: the scan stops at the limit, so it cannot lock
 * more rows than asked), the limit lowered by what the priorities before took. One index
 * range per (function, priority): delayed jobs of a higher priority are never scanned.
 */
function pick(s: string, priority: number, before: readonly string[]): string {
  const taken = before.map((p) => ` - (SELECT count(*) FROM ${p} WHERE ${p}.fn = d.fn)`);
  return `
    SELECT d.fn, j.id FROM d CROSS JOIN LATERAL (
      SELECT id FROM ${s}.jobs
      WHERE function_name = d.fn AND node IS NULL AND priority = ${priority} AND run_at <= now()
      ORDER BY run_at, id
      LIMIT greatest(0, d.n${taken.join('')})
      FOR UPDATE SKIP LOCKED
    ) j`;
}

/** The claim's picks and its update, after a CTE `d(fn, n)` of what may be claimed. */
function claimTail(s: string): string {
  return `
    p0 AS MATERIALIZED (${pick(s, 0, [])}),
    p1 AS MATERIALIZED (${pick(s, 1, ['p0'])}),
    p2 AS MATERIALIZED (${pick(s, 2, ['p0', 'p1'])}),
    claimed AS (
      UPDATE ${s}.jobs j SET node = $3, attempts = j.attempts + 1, claimed_at = now()
      WHERE j.id = ANY(ARRAY(SELECT id FROM p0 UNION ALL SELECT id FROM p1
                             UNION ALL SELECT id FROM p2))
      RETURNING j.id, j.function_name, j.unique_key, j.payload, j.priority, j.reducer,
                j.attempts, j.retry, j.run_at, j.watchers
    )`;
}

/** The columns of a claim's answer: a row per job claimed, then one per function asked. */
function claimSelect(s: string, fnRows: string): string {
  return `
    SELECT 'j' AS kind, c.id::text AS id, c.function_name AS fn, c.unique_key, c.payload,
           c.priority, c.reducer, c.attempts, c.retry, f.policy,
           (f.concurrency IS NOT NULL OR f.rate_max IS NOT NULL) AS limited,
           NULL::float8 AS due, NULL::float8[] AS starts, NULL::int AS rate_max,
           NULL::int AS rate_ms, NULL::float8 AS now_ms,
           extract(epoch from c.run_at)::float8 AS run_at,
           c.watchers IS NOT NULL AS watched,
           (c.watchers IS NOT NULL AND c.watchers <> ARRAY[$3::uuid]) AS relayed
    FROM claimed c LEFT JOIN ${s}.functions f ON f.name = c.function_name
    UNION ALL
    ${fnRows}`;
}

/**
 * The ms until the next delayed job of `d.fn` is due, or null (three index probes, one per
 * priority): the node sets one timer for it.
 */
function nextDue(s: string, fn: string): string {
  return `(SELECT extract(epoch from (min(x.run_at) - now())) * 1000
           FROM (VALUES (0::smallint), (1::smallint), (2::smallint)) AS p(pr)
           CROSS JOIN LATERAL (
             SELECT run_at FROM ${s}.jobs
             WHERE function_name = ${fn} AND node IS NULL AND priority = p.pr AND run_at > now()
             ORDER BY run_at LIMIT 1) x)::float8`;
}

/**
 * Claims for this node's demand (`$1` functions, `$2` counts, `$3` node): priority first,
 * then due time, then order of submission. Paused functions are skipped; functions with a
 * concurrency or rate limit are only named (`limited`): they are claimed by
 * {@link claimLimitedSteps}, under their lock.
 */
export function claimStatement(s: string): Statement {
  return {
    name: 'gt_claim',
    text: `
      WITH asked AS MATERIALIZED (
        SELECT a.fn, a.n, coalesce(f.paused, false) AS paused,
               coalesce(f.concurrency IS NOT NULL OR f.rate_max IS NOT NULL, false) AS limited
        FROM unnest($1::text[], $2::int[]) AS a(fn, n)
        LEFT JOIN ${s}.functions f ON f.name = a.fn
      ),
      d AS MATERIALIZED (SELECT fn, n FROM asked WHERE NOT paused AND NOT limited),
      ${claimTail(s)}
      ${claimSelect(
        s,
        `SELECT CASE WHEN asked.limited AND NOT asked.paused THEN 'l' ELSE 'f' END, NULL,
                asked.fn, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                ${nextDue(s, 'asked.fn')}, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM asked`,
      )}`,
  };
}

/**
 * The claim of limited functions, as a transaction: the first statement takes each
 * function's lock (a transaction-level advisory lock, in name order), so that claims of one
 * limited function, from any node, run one after the other; the second, with a snapshot
 * taken after the lock, counts what runs and what started within the rate window, claims
 * within both, and notes the starts. One round trip (the connection is pipelined).
 */
export function claimLimitedSteps(s: string): { lock: Statement; claim: Statement } {
  return {
    lock: {
      name: 'gt_limit_lock',
      text: `SELECT count(pg_advisory_xact_lock($2::int, hashtext(fn)))::int AS locked
             FROM (SELECT DISTINCT unnest($1::text[]) AS fn ORDER BY 1) AS x`,
    },
    claim: {
      name: 'gt_claim_limited',
      text: `
        WITH clock AS MATERIALIZED (SELECT ${NOW_MS} AS now_ms),
        asked AS MATERIALIZED (
          SELECT a.fn, a.n, f.concurrency, f.rate_max, f.rate_ms,
                 CASE WHEN f.rate_max IS NULL THEN '{}'::float8[] ELSE
                   ARRAY(SELECT t FROM unnest(f.starts) AS t
                         WHERE t > (SELECT now_ms FROM clock) - f.rate_ms ORDER BY t) END AS starts
          FROM unnest($1::text[], $2::int[]) AS a(fn, n)
          JOIN ${s}.functions f ON f.name = a.fn AND NOT f.paused
        ),
        d AS MATERIALIZED (
          SELECT fn, greatest(0, least(n,
            coalesce(concurrency - (SELECT count(*) FROM ${s}.jobs r
                                    WHERE r.node IS NOT NULL AND r.function_name = asked.fn), n),
            coalesce(rate_max - cardinality(starts), n)))::int AS n
          FROM asked
        ),
        ${claimTail(s)},
        counted AS (SELECT function_name AS fn, count(*)::int AS c FROM claimed GROUP BY 1),
        stamped AS (
          UPDATE ${s}.functions f
          SET starts = x.arr[greatest(1, cardinality(x.arr) - f.rate_max + 1):]
          FROM (SELECT asked.fn,
                       asked.starts || array_fill((SELECT now_ms FROM clock), ARRAY[counted.c]) AS arr
                FROM asked JOIN counted ON counted.fn = asked.fn) AS x
          WHERE f.name = x.fn AND f.rate_max IS NOT NULL
        )
        ${claimSelect(
          s,
          `SELECT 'f', NULL, asked.fn, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                  ${nextDue(s, 'asked.fn')}, asked.starts, asked.rate_max, asked.rate_ms,
                  (SELECT now_ms FROM clock), NULL, NULL, NULL
           FROM asked`,
        )}`,
    },
  };
}

/** The fence of a write to `j`, a row of the batch ($1 ids, `attempts`, `nodes`): see above. */
function fence(attempts: string, nodes: string): string {
  return `NOT ((j.id, j.attempts, j.node) NOT IN (
    SELECT * FROM unnest($1::bigint[], ${attempts}::int[], ${nodes}::uuid[])))`;
}

/** The value for row `j` of a per-row array of the batch (`$1` are the ids; rare paths). */
function at(param: string, type: string): string {
  return `(${param}::${type}[])[array_position($1::bigint[], j.id)]`;
}

/**
 * Ends attempts, each fenced by its job, its node and its attempt: a row that does not match
 * (the job was taken back, cancelled, or ended by an earlier try of this report) is left
 * alone, and its report is stale. Actions: `q` back in the queue (a retry or a lost
 * worker; `$4` ms of back-off, `$5` the failed attempt's error to add), `u` given back
 * unstarted (the attempt not counted), `c` completed, `f` failed for good. An ended job
 * leaves the hot table; its outcome is kept in the same statement when `$9` says so, and
 * its end (`$11`: the result or the exception's data) is written for the other nodes that
 * wait for it (decision 36; the node that ran it told its own clients). The
 * answer is the reports that matched nothing (rare): a row per matched one cost the node
 * a result row to parse for every job.
 */
export function reportStatement(s: string): Statement {
  const act = at('$3', 'text');
  const delay = at('$4', 'float8');
  const err = at('$5', 'jsonb');
  return {
    name: 'gt_report',
    text: `
      WITH stay AS (
        UPDATE ${s}.jobs j SET node = NULL, claimed_at = NULL, numerator = 0, denominator = 0,
          attempts = CASE WHEN ${act} IN ('u', 'a') THEN j.attempts - 1 ELSE j.attempts END,
          watchers = CASE WHEN ${act} = 'a'
                     THEN nullif(array_remove(j.watchers, j.node), '{}') ELSE j.watchers END,
          run_at = CASE WHEN ${delay} > 0 THEN now() + ${delay} * interval '1 millisecond'
                   ELSE j.run_at END,
          errors = CASE WHEN ${err} IS NULL THEN j.errors
                   ELSE j.errors || jsonb_build_array(${err}) END
        WHERE j.id = ANY($1::bigint[]) AND ${fence('$2', '$10')} AND ${act} IN ('q', 'u', 'a')
        RETURNING j.id
      ),
      gone AS (
        DELETE FROM ${s}.jobs j
        WHERE j.id = ANY($1::bigint[]) AND ${fence('$2', '$10')} AND ${act} IN ('c', 'f')
        RETURNING j.*, ${act} AS act, ${at('$6', 'text')} AS reason,
                  ${at('$7', 'bytea')} AS result, ${at('$8', 'bool')} AS truncated,
                  ${at('$9', 'bool')} AS keep, ${err} AS err, ${at('$11', 'bytea')} AS end_data
      ),
      told AS (
        INSERT INTO ${s}.updates (job, writer, kind, data, reason)
        SELECT id, node,
               CASE WHEN act = 'c' THEN 'complete' WHEN reason = 'EXCEPTION' THEN 'exception'
                    ELSE 'fail' END,
               end_data, reason
        FROM gone WHERE watchers IS NOT NULL AND watchers <> ARRAY[node]
      ),
      kept AS (
        INSERT INTO ${s}.outcomes (id, function_name, unique_key, priority, state, reason,
          result, truncated, payload, reducer, retry, attempts, errors, queued_at, started_at)
        SELECT id, function_name, unique_key, priority,
               CASE act WHEN 'c' THEN 'completed' ELSE 'failed' END, reason, result, truncated,
               CASE act WHEN 'c' THEN ''::bytea ELSE payload END, reducer, retry, attempts,
               CASE WHEN err IS NULL THEN errors ELSE errors || jsonb_build_array(err) END,
               submitted_at, claimed_at
        FROM gone WHERE keep
        ON CONFLICT (id) DO NOTHING
      )
      SELECT x.id::text AS id FROM unnest($1::bigint[]) AS x(id)
      WHERE x.id NOT IN (SELECT id FROM stay UNION ALL SELECT id FROM gone)`,
  };
}

/**
 * The common batch: completions whose outcome is not kept, fenced as in
 * {@link reportStatement}, with three arrays to send instead of ten and nothing of the
 * deleted rows materialised. Answers the ids that matched nothing; `watched` among them are
 * jobs a node began to wait for since the claim, whose end the general statement writes.
 */
export function completeStatement(s: string): Statement {
  return {
    name: 'gt_complete',
    text: `
      WITH gone AS (
        DELETE FROM ${s}.jobs j
        WHERE j.id = ANY($1::bigint[]) AND ${fence('$2', '$3')} AND j.watchers IS NULL
        RETURNING j.id
      )
      SELECT x.id::text AS id,
             EXISTS (SELECT 1 FROM ${s}.jobs w WHERE w.id = x.id AND w.watchers IS NOT NULL)
               AS watched
      FROM unnest($1::bigint[]) AS x(id)
      WHERE x.id NOT IN (SELECT id FROM gone)`,
  };
}

/** Progress of running attempts, fenced like reports; a HOT update (no index has them). */
export function progressStatement(s: string): Statement {
  return {
    name: 'gt_progress',
    text: `
      UPDATE ${s}.jobs j SET numerator = ${at('$3', 'bigint')}, denominator = ${at('$4', 'bigint')}
      WHERE j.id = ANY($1::bigint[]) AND ${fence('$2', '$5')}`,
  };
}

/**
 * Updates of running attempts for the other nodes that wait for them (`$1` ids, `$2`
 * attempts, `$6` this node), in order, fenced like reports: an attempt no longer this
 * node's writes nothing.
 */
export function relayStatement(s: string): Statement {
  return {
    name: 'gt_relay',
    text: `
      INSERT INTO ${s}.updates (job, writer, kind, data, numerator, denominator)
      SELECT u.id, $7::uuid, u.kind, u.data, u.num, u.den
      FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bytea[], $5::bigint[], $6::bigint[])
        WITH ORDINALITY AS u(id, attempt, kind, data, num, den, ord)
      WHERE EXISTS (SELECT 1 FROM ${s}.jobs j
                    WHERE j.id = u.id AND j.node = $7::uuid AND j.attempts = u.attempt)
      ORDER BY u.ord`,
  };
}

/** This node (`$2`) waits for these jobs (`$1`) no more: it leaves their watchers. */
export function unwatchStatement(s: string): Statement {
  return {
    name: 'gt_unwatch',
    text: `
      UPDATE ${s}.jobs j SET watchers = nullif(array_remove(j.watchers, $2::uuid), '{}')
      WHERE j.id = ANY($1::bigint[]) AND j.watchers @> ARRAY[$2::uuid]`,
  };
}

/**
 * Of these jobs (`$1`), the foreground ones no node waits for and none runs are dropped
 * (gearmand drops a job whose clients left). Sent after the write that left the watchers
 * (an unwatch, a give-back), as a statement of its own: of two nodes leaving one job at
 * once, the second one's write waits for the first's row lock, and its drop, after it,
 * sees the watchers empty (one statement's snapshot would see the other still there).
 */
export function dropUnwatchedStatement(s: string): Statement {
  return {
    name: 'gt_drop_unwatched',
    text: `
      DELETE FROM ${s}.jobs j
      WHERE j.id = ANY($1::bigint[]) AND j.foreground AND j.node IS NULL AND j.watchers IS NULL`,
  };
}

/**
 * Nodes are gone (reaped, or left): they wait for nothing any more. Queued foreground jobs
 * only they waited for are dropped (a node's death is its clients' going); the others lose
 * them from their watchers. A scan of the watched jobs only (a partial index).
 */
export function forgetWatchersStatement(s: string): Statement {
  return {
    name: 'gt_forget_watchers',
    text: `
      WITH live AS MATERIALIZED (SELECT coalesce(array_agg(id), '{}') AS ids FROM ${s}.nodes),
      dropped AS (
        DELETE FROM ${s}.jobs j
        WHERE j.watchers IS NOT NULL AND j.foreground AND j.node IS NULL
          AND NOT (j.watchers && (SELECT ids FROM live))
        RETURNING j.id
      ),
      kept AS (
        UPDATE ${s}.jobs j
        SET watchers = nullif(ARRAY(SELECT w FROM unnest(j.watchers) AS w
                                    WHERE w IN (SELECT id FROM ${s}.nodes)), '{}')
        WHERE j.watchers IS NOT NULL AND NOT (j.watchers <@ (SELECT ids FROM live))
          AND j.id NOT IN (SELECT id FROM dropped)
      )
      SELECT count(*)::int AS dropped FROM dropped`,
  };
}

/**
 * Updates of the jobs this node waits for (`$1`), after `$2`, but those it wrote itself
 * (`$3`: its clients heard them), in order.
 */
export function updatesStatement(s: string): Statement {
  return {
    name: 'gt_updates',
    text: `
      SELECT id::text AS id, job::text AS job, kind, data, reason, numerator, denominator
      FROM ${s}.updates
      WHERE job = ANY($1::bigint[]) AND id > $2::bigint AND writer IS DISTINCT FROM $3::uuid
      ORDER BY id`,
  };
}

/** Updates older than `$1` ms go (every node waiting read them long before). */
export function pruneUpdatesStatement(s: string): Statement {
  return {
    name: 'gt_prune_updates',
    text: `DELETE FROM ${s}.updates WHERE written_at < now() - $1::float8 * interval '1 millisecond'`,
  };
}
