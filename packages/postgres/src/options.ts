import { InvalidArgumentError, type LoggerLike, type Retention } from '@geartrain/core';
import { checkOptions, knownKeys } from '@geartrain/core/transport';

/** How `postgresQueue()` is set up; every field is optional. */
export interface PostgresQueueOptions {
  /**
   * `postgres://user:password@host:port/database?…`. Without it, node-postgres reads the
   * standard `PG*` environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
   * `PGDATABASE`, `PGSSLMODE`, …), as `psql` does.
   */
  connectionString?: string;
  /** The PostgreSQL schema the queue's tables live in, created at open. Default `geartrain`. */
  schema?: string;
  /**
   * Connections this node sends its queries on, each pipelined (several statements in
   * flight). Default 2. The node holds one more, outside these, for its liveness lock and
   * its LISTEN.
   */
  pool?: number;
  /**
   * ms without a heartbeat after which a node is taken for dead and its running jobs are
   * given to the others (a hung process, a lost network). Default 10,000. A node whose
   * session ended (kill -9) is found within about a second, whatever the lease.
   */
  lease?: number;
  /** How often the heartbeat (and the reaper) runs, ms. Default 1,000. */
  heartbeat?: number;
  /**
   * Times a job whose worker was lost (or whose node died) runs again before it fails with
   * `RETRIES_EXHAUSTED`, for a job without a retry policy. Default unlimited, as gearmand.
   */
  maxRetries?: number;
  /**
   * What every function keeps of its ended jobs unless its policy says otherwise. Default:
   * failed jobs (the newest 1,000, for 7 days), not completed ones — the job server's.
   */
  keep?: Retention;
  /** Bytes of a result or of an exception's data kept in an outcome. Default 4,096. */
  outcomeDataLimit?: number;
  /** Most NOTIFY this node sends a second (wake-ups of the other nodes). Default 20. */
  notifyRate?: number;
  /** A statement that takes longer than this (ms) is cancelled. Default 30,000. */
  statementTimeout?: number;
  /** ms a connection attempt may take. Default 5,000. */
  connectTimeout?: number;
  /** How this node's sessions show in `pg_stat_activity`. Default `geartrain`. */
  applicationName?: string;
  /**
   * Where the queue's own troubles are logged (a lost session, a failed heartbeat): give
   * the job server's logger. The job server logs the calls it makes that fail.
   */
  logger?: LoggerLike;
}

/** The options with their defaults filled in. */
export interface Settings {
  readonly connectionString: string | undefined;
  readonly schema: string;
  readonly pool: number;
  readonly lease: number;
  readonly heartbeat: number;
  readonly maxRetries: number;
  readonly keep: Required<Retention>;
  readonly outcomeDataLimit: number;
  readonly notifyRate: number;
  readonly statementTimeout: number;
  readonly connectTimeout: number;
  readonly applicationName: string;
  readonly logger: LoggerLike | undefined;
}

const KEYS = knownKeys<PostgresQueueOptions>({
  connectionString: true,
  schema: true,
  pool: true,
  lease: true,
  heartbeat: true,
  maxRetries: true,
  keep: true,
  outcomeDataLimit: true,
  notifyRate: true,
  statementTimeout: true,
  connectTimeout: true,
  applicationName: true,
  logger: true,
});

/** The job server's default retention (its `keep` option's default). */
export const DEFAULT_KEEP: Required<Retention> = {
  completed: { count: 0 },
  failed: { count: 1000, age: 7 * 24 * 3600_000 },
};

function positive(value: number | undefined, fallback: number, what: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidArgumentError(`${what} must be a number ≥ ${min}`);
  }
  return value;
}

/**
 * Checks the options and fills in the defaults.
 * @throws InvalidArgumentError
 */
export function settingsOf(options: PostgresQueueOptions = {}): Settings {
  checkOptions(options, 'postgresQueue options', KEYS);
  const schema = options.schema ?? 'geartrain';
  // A plain name: it is quoted everywhere, but a name that needs quoting is a typo more often.
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_$]{0,62}$/.test(schema)) {
    throw new InvalidArgumentError(
      'schema must be a lower-case PostgreSQL name (letters, digits, _; at most 63)',
    );
  }
  const pool = positive(options.pool, 2, 'pool');
  if (!Number.isSafeInteger(pool) || pool > 64) {
    throw new InvalidArgumentError('pool must be a whole number from 1 to 64');
  }
  const heartbeat = positive(options.heartbeat, 1000, 'heartbeat', 50);
  const lease = positive(options.lease, 10_000, 'lease', 100);
  if (lease < 2 * heartbeat) {
    throw new InvalidArgumentError('lease must be at least twice the heartbeat interval');
  }
  const maxRetries = options.maxRetries ?? Infinity;
  if (typeof maxRetries !== 'number' || !(maxRetries >= 0)) {
    throw new InvalidArgumentError('maxRetries must be ≥ 0');
  }
  if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
    throw new InvalidArgumentError('connectionString must be a string');
  }
  checkOptions(options.keep, 'keep', knownKeys<Retention>({ completed: true, failed: true }));
  return {
    connectionString: options.connectionString,
    schema,
    pool,
    lease,
    heartbeat,
    maxRetries,
    keep: {
      completed: options.keep?.completed ?? DEFAULT_KEEP.completed,
      failed: options.keep?.failed ?? DEFAULT_KEEP.failed,
    },
    outcomeDataLimit: positive(options.outcomeDataLimit, 4096, 'outcomeDataLimit', 0),
    notifyRate: positive(options.notifyRate, 20, 'notifyRate'),
    statementTimeout: positive(options.statementTimeout, 30_000, 'statementTimeout', 100),
    connectTimeout: positive(options.connectTimeout, 5000, 'connectTimeout', 100),
    applicationName: options.applicationName ?? 'geartrain',
    logger: options.logger,
  };
}
