import pg from 'pg';
import type { Settings } from './options.js';

/** A statement: its text, and a name under which each connection prepares it once. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** The session settings every connection of the queue gets. */
export function clientConfig(settings: Settings, role: string): pg.ClientConfig {
  return {
    // Without a connection string node-postgres reads PGHOST, PGPORT, PGUSER, PGPASSWORD,
    // PGDATABASE, PGSSLMODE... as psql does (its ConnectionParameters).
    ...(settings.connectionString === undefined
      ? {}
      : { connectionString: settings.connectionString }),
    application_name: `${settings.applicationName}:${role}`,
    connectionTimeoutMillis: settings.connectTimeout,
    statement_timeout: settings.statementTimeout,
    // Guardrails (shared-queue notes, point 11): no session of ours holds a transaction open.
    idle_in_transaction_session_timeout: Math.max(settings.statementTimeout, 10_000),
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    // No JIT: the queue's statements are short, but a table whose statistics lag behind its
    // churn makes the planner's estimates large enough to compile them (measured: a 1 ms
    // heartbeat took 759 ms, 756 of them JIT; submissions of 500 took 80 ms). Added to
    // PGOPTIONS (node-postgres reads it only when no options are given); a connection
    // string's own `options` still wins.
    options: [process.env['PGOPTIONS'], '-c jit=off'].filter(Boolean).join(' '),
  };
}

/**
 * Where a configuration points, as `user@host:port/database` (never the password): the
 * connection string's parts, the rest from the `PG*` environment variables, as node-postgres
 * reads them.
 */
export function targetOf(config: pg.ClientConfig): string {
  const client = new pg.Client(config);
  return `${client.user ?? ''}@${client.host}:${client.port}/${client.database ?? ''}`;
}

/**
 * Ends a client, at most waiting `ms`: a client whose server went away without a word (a
 * network cut) would wait for an answer to its goodbye forever.
 */
export async function endWithin(client: pg.Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([client.end().catch(() => undefined), late]);
  clearTimeout(timer);
  client.removeAllListeners('end');
  client.on('error', () => undefined);
  // Whatever is left of it goes: a frozen socket is not waited for.
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}

interface Slot {
  client: pg.Client | null;
  connecting: Promise<pg.Client> | null;
  /** Statements sent on it and not answered yet. */
  inFlight: number;
}

/**
 * The connections a node sends its statements on: a few pipelined node-postgres clients
 * (`pipeline: true`: a statement is written without waiting for the answer of the one
 * before, each in its own implicit transaction), the next statement going to the one with
 * the fewest in flight. Throughput depends on round trips, not on connections: two
 * pipelined connections carry what a pool of dozens would (decision for issue 31).
 *
 * A connection that fails is dropped (the statements in flight on it reject) and made
 * again for the next statement: a restarted database is used again without a word.
 */
export class Connections {
  private readonly slots: Slot[];
  private closed = false;
  /** Connections made since the start (the first ones included): for tests and metrics. */
  connects = 0;
  /** Statements sent since the start (a transaction's BEGIN and COMMIT included). */
  sent = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    size: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.slots = Array.from({ length: size }, () => ({
      client: null,
      connecting: null,
      inFlight: 0,
    }));
  }

  /** Runs one statement (prepared by name on each connection once). */
  async query<R extends pg.QueryResultRow>(
    statement: Statement,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    const slot = this.pick();
    slot.inFlight++;
    this.sent++;
    try {
      const client = await this.clientOf(slot);
      const result = await client.query<R>({
        name: statement.name,
        text: statement.text,
        values: values as unknown[],
      });
      return result.rows;
    } finally {
      slot.inFlight--;
    }
  }

  /** Runs a statement given by text only (not prepared: DDL, one-off queries). */
  async simple<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    const slot = this.pick();
    slot.inFlight++;
    this.sent++;
    try {
      const client = await this.clientOf(slot);
      return (await client.query<R>(text, values)).rows;
    } finally {
      slot.inFlight--;
    }
  }

  /**
   * Runs statements as one transaction on one connection: they are queued on it together,
   * so that no other statement comes between them (the connection is pipelined).
   */
  async transaction<R extends pg.QueryResultRow>(
    steps: readonly { statement: Statement; values: readonly unknown[] }[],
  ): Promise<R[][]> {
    const slot = this.pick();
    slot.inFlight++;
    this.sent += steps.length + 2;
    try {
      const client = await this.clientOf(slot);
      const begin = client.query('BEGIN');
      const runs = steps.map((step) =>
        client.query<R>({
          name: step.statement.name,
          text: step.statement.text,
          values: step.values as unknown[],
        }),
      );
      const commit = client.query('COMMIT');
      // Every promise is awaited, so that none rejects unhandled.
      const settled = await Promise.allSettled([begin, ...runs, commit]);
      const failed = settled.find((s) => s.status === 'rejected');
      // A failed step makes the COMMIT a rollback: the step's error is the one thrown.
      if (failed !== undefined) throw failed.reason;
      return settled
        .slice(1, -1)
        .map((s) => (s as PromiseFulfilledResult<pg.QueryResult<R>>).value.rows);
    } finally {
      slot.inFlight--;
    }
  }

  private pick(): Slot {
    let best = this.slots[0]!;
    for (const slot of this.slots) {
      // A live connection with the fewest in flight; one not made yet only if all are busy.
      const score = slot.inFlight + (slot.client === null ? 0.5 : 0);
      const bestScore = best.inFlight + (best.client === null ? 0.5 : 0);
      if (score < bestScore) best = slot;
    }
    return best;
  }

  private clientOf(slot: Slot): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the queue connections are closed'));
    if (slot.client !== null) return Promise.resolve(slot.client);
    slot.connecting ??= this.connect(slot).finally(() => {
      slot.connecting = null;
    });
    return slot.connecting;
  }

  private async connect(slot: Slot): Promise<pg.Client> {
    const client = new pg.Client({ ...this.config, pipeline: true });
    // A connection's error (the server restarted, a backend was terminated) must never be an
    // uncaught 'error' event: the connection is dropped and made again when next needed.
    const drop = (error?: unknown) => {
      if (slot.client === client) slot.client = null;
      if (error !== undefined && !this.closed) this.onError(error);
    };
    client.on('error', drop);
    client.on('end', () => drop());
    this.connects++;
    try {
      await client.connect();
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('the queue connections are closed');
    }
    slot.client = client;
    return client;
  }

  /** Ends every connection once the statements in flight on it are answered. */
  async close(): Promise<void> {
    this.closed = true;
    const ending: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      const client = slot.client;
      slot.client = null;
      if (client !== null) ending.push(endWithin(client, 2000));
    }
    await Promise.all(ending);
  }
}
