import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresQueueError } from './errors.js';

/**
 * The queue's tables, one migration per schema version. Each runs once, in the transaction
 * that holds the migration lock, and never changes once released: a change is a new one.
 *
 * - `jobs`, the hot table: queued, delayed and running jobs only (shared-queue notes, point
 *   1). The progress columns are in no index, so that writing them is a HOT update.
 * - `outcomes`: ended jobs a function keeps (completed, failed), pruned in bounded batches.
 * - `functions`: each function's settings record (retries and retention in `policy`, pause,
 *   limits, queue limits) and its rate window.
 * - `schedules`, `nodes`, `meta` (the schema's version and the cluster's handle prefix).
 */
export const MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
    CREATE SEQUENCE ${s}.job_ids AS bigint;
    CREATE SEQUENCE ${s}.node_locks AS integer MINVALUE 1 CYCLE;
    CREATE TABLE ${s}.jobs (
      id bigint PRIMARY KEY,
      function_name text NOT NULL,
      unique_key text,
      priority smallint NOT NULL,
      run_at timestamptz NOT NULL,
      payload bytea NOT NULL,
      reducer text NOT NULL DEFAULT '',
      retry jsonb,
      attempts integer NOT NULL DEFAULT 0,
      node uuid,
      claimed_at timestamptz,
      errors jsonb NOT NULL DEFAULT '[]',
      numerator bigint NOT NULL DEFAULT 0,
      denominator bigint NOT NULL DEFAULT 0,
      submitted_at timestamptz NOT NULL DEFAULT now()
    ) WITH (fillfactor = 80);
    -- (unique_key, function_name): coalescing, and status by unique id without a function.
    CREATE UNIQUE INDEX jobs_unique ON ${s}.jobs (unique_key, function_name)
      WHERE unique_key IS NOT NULL;
    CREATE INDEX jobs_ready ON ${s}.jobs (function_name, priority, run_at, id)
      WHERE node IS NULL;
    CREATE INDEX jobs_running ON ${s}.jobs (node) WHERE node IS NOT NULL;
    CREATE TABLE ${s}.outcomes (
      id bigint PRIMARY KEY,
      function_name text NOT NULL,
      unique_key text,
      priority smallint NOT NULL,
      state text NOT NULL CHECK (state IN ('completed', 'failed')),
      reason text,
      result bytea,
      truncated boolean NOT NULL DEFAULT false,
      payload bytea NOT NULL,
      reducer text NOT NULL DEFAULT '',
      retry jsonb,
      attempts integer NOT NULL,
      errors jsonb NOT NULL DEFAULT '[]',
      queued_at timestamptz NOT NULL,
      started_at timestamptz,
      ended_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX outcomes_by_function ON ${s}.outcomes (function_name, state, ended_at, id);
    CREATE TABLE ${s}.functions (
      name text PRIMARY KEY,
      policy jsonb,
      paused boolean NOT NULL DEFAULT false,
      concurrency integer,
      rate_max integer,
      rate_ms integer,
      -- Most live jobs per priority, {"high": n, "normal": n, "low": n} (0: no limit).
      max_queue jsonb,
      -- The starts within the rate window (ms on the database's clock), newest last.
      starts double precision[] NOT NULL DEFAULT '{}'
    );
    CREATE TABLE ${s}.schedules (
      id text PRIMARY KEY,
      cron text,
      every bigint,
      timezone text,
      function_name text NOT NULL,
      payload bytea NOT NULL,
      priority smallint NOT NULL,
      unique_key text NOT NULL,
      catch_up text NOT NULL,
      since double precision NOT NULL,
      last_tick double precision
    );
    CREATE TABLE ${s}.nodes (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      lock_id integer NOT NULL,
      -- The functions its workers can do (its foreground jobs stay on it: item 5).
      functions text[] NOT NULL DEFAULT '{}',
      started_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now()
    );
  `,
  // 2: foreground jobs in the shared queue (decision 36). `watchers`: the nodes whose clients
  // wait for the job (null for none: no write to it on the background path); `foreground`:
  // only foreground submissions made it (dropped before it starts once nobody waits).
  // `updates`: what the nodes waiting are to hear (a running job's data, warnings, status,
  // and its end), by job, in order; `writer` is the node that ran the job (its own clients
  // heard them from its worker), null for the queue's own (a cancel).
  (s) => `
    ALTER TABLE ${s}.jobs ADD COLUMN watchers uuid[];
    ALTER TABLE ${s}.jobs ADD COLUMN foreground boolean NOT NULL DEFAULT false;
    CREATE INDEX jobs_watched ON ${s}.jobs (id) WHERE watchers IS NOT NULL;
    CREATE TABLE ${s}.updates (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      job bigint NOT NULL,
      writer uuid,
      kind text NOT NULL
        CHECK (kind IN ('data', 'warning', 'status', 'complete', 'fail', 'exception')),
      data bytea,
      reason text,
      numerator bigint,
      denominator bigint,
      written_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX updates_by_job ON ${s}.updates (job, id);
  `,
];

/** The newest schema this release knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What `migrate` found or made: the cluster's handle prefix. */
export interface SchemaInfo {
  readonly version: number;
  /** Handles are `H:<cluster>:<id>`; made once with the schema, never reused. */
  readonly cluster: string;
}

/**
 * Creates or migrates the queue's schema, in one transaction under a transaction-level
 * advisory lock: nodes starting at once migrate one after the other, the later ones finding
 * the work done. A schema of a newer release is refused (`NEWER_SCHEMA`), never touched.
 */
export async function migrate(
  config: pg.ClientConfig,
  schema: string,
  migrations: readonly ((s: string) => string)[] = MIGRATIONS,
): Promise<SchemaInfo> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new PostgresQueueError(
      'CANNOT_CONNECT',
      `cannot connect to PostgreSQL: ${(error as Error).message}`,
      error,
    );
  }
  try {
    const [{ version } = { version: 0 }] = (
      await client.query<{ version: number }>(
        "SELECT current_setting('server_version_num')::int AS version",
      )
    ).rows;
    if (version < 140000) {
      throw new PostgresQueueError(
        'OLD_SERVER',
        `PostgreSQL ${Math.floor(version / 10000)} is too old for the shared queue: 14 or newer`,
      );
    }
    const s = pg.escapeIdentifier(schema);
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `geartrain:migrate:${schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`,
      );
      const rows = (
        await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${s}.meta`)
      ).rows;
      const meta = new Map(rows.map((r) => [r.key, r.value]));
      const found = Number(meta.get('version') ?? 0);
      if (found > migrations.length) {
        throw new PostgresQueueError(
          'NEWER_SCHEMA',
          `the schema ${schema} was migrated by a newer release of geartrain (schema ` +
            `version ${found}; this one knows up to ${migrations.length}): upgrade this node`,
        );
      }
      for (let v = found + 1; v <= migrations.length; v++) {
        await client.query(migrations[v - 1]!(s));
      }
      let cluster = meta.get('cluster');
      if (cluster === undefined) {
        // Random, so that a schema made again (or a sequence reset) never gives old handles.
        cluster = randomBytes(6).toString('base64url');
        await client.query(`INSERT INTO ${s}.meta (key, value) VALUES ('cluster', $1)`, [cluster]);
      }
      await client.query(
        `INSERT INTO ${s}.meta (key, value) VALUES ('version', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(Math.max(found, migrations.length))],
      );
      await client.query('COMMIT');
      return { version: migrations.length, cluster };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
