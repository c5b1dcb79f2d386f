import pg from 'pg';
import { endWithin, type Statement } from './connections.js';

/** A query that gives up after `ms` (the connection may be cut without a word). */
async function queryWithin<R extends pg.QueryResultRow>(
  client: pg.Client,
  ms: number,
  query: pg.QueryConfig,
): Promise<R[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswer(ms)), ms);
  });
  try {
    return (await Promise.race([client.query<R>(query), late])).rows;
  } finally {
    clearTimeout(timer);
  }
}

class NoAnswer extends Error {
  constructor(ms: number) {
    super(`the database did not answer the heartbeat within ${ms} ms`);
  }
}

/** What a heartbeat found. */
export interface Beat {
  /** 0: this node had been reaped (its row was gone). */
  readonly alive: number;
  readonly now_ms: number;
  readonly reaped: number;
  /** The running jobs of nodes that are gone, to be put back. */
  readonly orphans: Orphan[] | null;
  /** Of the functions asked about, those with runnable jobs. */
  readonly ready: string[];
}

export interface Orphan {
  readonly id: string;
  readonly node: string;
  readonly attempts: number;
  readonly fn: string;
  readonly retry: unknown;
  readonly policy: unknown;
  readonly limited: boolean;
  /** Nodes wait for its updates (a foreground job): its end is written for them. */
  readonly watched: boolean;
}

export interface SessionOptions {
  readonly config: pg.ClientConfig;
  readonly channel: string;
  readonly heartbeat: number;
  /** How long a heartbeat may go unanswered before the session is made again (ms). */
  readonly lease: number;
  readonly register: { statement: Statement; values: readonly unknown[] };
  readonly beat: { statement: Statement; values: () => readonly unknown[] };
  readonly leave: { statement: Statement; values: readonly unknown[] };
  /** Registered (`existed`: the row was still there, this node was not reaped). */
  readonly registered: (existed: boolean, dbNow: number, localNow: number) => void;
  readonly beaten: (beat: Beat, localNow: number) => void;
  readonly notified: (payload: string) => void;
  readonly failed: (error: unknown) => void;
}

/**
 * A node's own session, outside the pool: it holds the node's session advisory lock (the
 * lock ends with the connection, so that a node killed with -9 is found dead within a
 * heartbeat), LISTENs to the queue's channel, and sends the heartbeat. When the connection
 * fails it is made again (every 250 ms at first, at most every 2 s) and the node registers
 * again: with its row still there it goes on; if it was reaped meanwhile, it hears so
 * (`registered(false)`) and gives up what it held.
 */
export class Session {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private beating = false;
  private retryDelay = 250;
  /** Heartbeats sent since the start (each one statement): for metrics and the bench. */
  beats = 0;
  /** The first connection's outcome: `open` waits for it. */
  private ready: Promise<void> | null = null;

  constructor(private readonly options: SessionOptions) {}

  /** Whether the session is up now (its LISTEN hears the other nodes). */
  get connected(): boolean {
    return this.client !== null;
  }

  start(): Promise<void> {
    this.ready ??= this.connect();
    return this.ready;
  }

  private async connect(): Promise<void> {
    const o = this.options;
    const client = new pg.Client(o.config);
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the session ended')));
    client.on('notification', (message) => {
      if (message.channel === o.channel && message.payload !== undefined) {
        o.notified(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(o.channel)}`);
      const sent = Date.now();
      const rows = (
        await client.query<{ existed: boolean; now_ms: number }>({
          name: o.register.statement.name,
          text: o.register.statement.text,
          values: o.register.values as unknown[],
        })
      ).rows;
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.retryDelay = 250;
      const row = rows[0]!;
      o.registered(row.existed, row.now_ms, (sent + Date.now()) / 2);
      this.schedule(o.heartbeat);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** The connection failed: made again, after a while. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('notification');
    if (this.stopped) return;
    this.options.failed(error);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.connect().catch((error: unknown) => {
        this.options.failed(error);
        this.retryDelay = Math.min(this.retryDelay * 2, 2000);
        this.reconnectLater();
      });
    }, this.retryDelay);
    this.timer.unref();
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.beat();
    }, delay);
    this.timer.unref();
  }

  /** One heartbeat (and reaper pass); the next is scheduled when it is answered. */
  async beat(): Promise<void> {
    const client = this.client;
    if (client === null || this.beating || this.stopped) return;
    this.beating = true;
    const o = this.options;
    try {
      // No answer within the lease: the others reap this node anyway; the session is made
      // again rather than waited for (a network that dropped it without a word).
      this.beats++;
      const rows = await queryWithin<Beat>(client, o.lease, {
        name: o.beat.statement.name,
        text: o.beat.statement.text,
        values: o.beat.values() as unknown[],
      });
      const beat = rows[0]!;
      if (beat.alive === 0 && !this.stopped) {
        // Reaped (a pause longer than the lease): registered again as a new incarnation of
        // the same node; what it held was given to the others.
        const sent = Date.now();
        await client.query('SELECT pg_advisory_unlock_all()');
        const again = (
          await client.query<{ existed: boolean; now_ms: number }>({
            name: o.register.statement.name,
            text: o.register.statement.text,
            values: o.register.values as unknown[],
          })
        ).rows[0]!;
        o.registered(again.existed, again.now_ms, (sent + Date.now()) / 2);
      }
      o.beaten(beat, Date.now());
    } catch (error) {
      if (this.client === client) {
        o.failed(error);
        if (error instanceof NoAnswer) {
          (
            client as unknown as { connection: { stream: { destroy(): void } } }
          ).connection.stream.destroy();
        }
      }
      // Otherwise (a statement timeout on a live connection): tried again next time.
    } finally {
      this.beating = false;
      if (this.client === client) this.schedule(o.heartbeat);
    }
  }

  /** Leaves: the node's row is deleted, and the connection ended (its lock with it). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client === null) return;
    const o = this.options;
    try {
      await queryWithin(client, 2000, {
        name: o.leave.statement.name,
        text: o.leave.statement.text,
        values: o.leave.values as unknown[],
      });
    } catch {
      // The others' reapers find the node gone without it.
    }
    client.removeAllListeners('notification');
    await endWithin(client, 2000);
  }

  /** For tests: the backend PID of this session (its lock holder). */
  async pid(): Promise<number | undefined> {
    const client = this.client;
    if (client === null) return undefined;
    return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  }
}
