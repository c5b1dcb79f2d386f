import type { FailReason, JobUpdate } from '@geartrain/core';
import type { BackendSignals, RelayedUpdate } from '@geartrain/core/transport';
import type { Connections } from './connections.js';
import { handleOf, idOf } from './rows.js';
import type { Statements } from './statements.js';

/** How long written updates are kept: every node waiting has read them long before. */
const KEEP_UPDATES_MS = 5 * 60_000;

export interface WatchesHost {
  readonly st: Statements;
  db(): Connections;
  cluster(): string;
  /** This node's id. */
  node(): string;
  signals(): BackendSignals | null;
  /** Tells the other nodes that updates of these jobs were written. */
  updated(ids: readonly string[]): void;
  log(error: unknown, what: string): void;
}

interface UpdateRow {
  id: string;
  job: string;
  kind: JobUpdate['type'];
  data: Buffer | null;
  reason: string | null;
  numerator: string | null;
  denominator: string | null;
}

/**
 * The foreground jobs this node's clients wait for, and how their updates reach it
 * (decision 36): the node that runs a job writes its data, warnings and status to the
 * `updates` table, and the report that ends it writes its end there too, in the same
 * statement; each write is followed by a NOTIFY naming the jobs, on which the nodes that
 * wait read what is new for them. A side table rather than the NOTIFY's payload: a result
 * may be as large as a Gearman packet, and NOTIFY stops at 8,000 bytes. The heartbeat reads
 * them too (a notification lost while the session was down).
 */
export class Watches {
  /** Job id → the last update read for it ('0': none yet). */
  private readonly cursors = new Map<string, string>();
  private reading: Promise<void> | null = null;
  /** Jobs to read again once the read in flight is answered (null: all watched). */
  private again: Set<string> | null | undefined = undefined;
  private lastPrune = Date.now();
  /** Updates were written or heard of since the last prune (an idle node prunes nothing). */
  private dirty = false;

  constructor(private readonly host: WatchesHost) {}

  /** A foreground submission of this node was accepted as job `id`. */
  watch(id: string): void {
    if (!this.cursors.has(id)) this.cursors.set(id, '0');
  }

  /** The job ended by this node's own report: its clients here heard it from the worker. */
  ended(id: string): void {
    this.cursors.delete(id);
  }

  /** This node's clients of these jobs left: a job nobody waits for is dropped unstarted. */
  async unwatch(handles: readonly string[]): Promise<void> {
    const cluster = this.host.cluster();
    const ids: string[] = [];
    for (const handle of handles) {
      const id = idOf(cluster, handle);
      if (id !== undefined && this.cursors.delete(id)) ids.push(id);
    }
    if (ids.length === 0) return;
    await this.host.db().query(this.host.st.unwatch, [ids, this.host.node()]);
    await this.dropUnwatched(ids);
  }

  /** Nodes are gone: they wait for nothing; the jobs only they waited for are dropped. */
  async forgetDead(): Promise<void> {
    await this.host.db().query(this.host.st.forgetWatchers);
  }

  /** Of these jobs, the foreground ones nobody waits for and none runs go (see the SQL). */
  async dropUnwatched(ids: readonly string[]): Promise<void> {
    await this.host.db().query(this.host.st.dropUnwatched, [ids]);
  }

  /** Writes running jobs' updates for the other nodes waiting, then tells them. */
  async relay(batch: readonly RelayedUpdate[]): Promise<void> {
    const cluster = this.host.cluster();
    const rows = batch.flatMap((r) => {
      const id = idOf(cluster, r.handle);
      return id === undefined ? [] : [{ id, r }];
    });
    if (rows.length === 0) return;
    this.dirty = true;
    const status = (r: RelayedUpdate) => (r.update.type === 'status' ? r.update : null);
    await this.host.db().query(this.host.st.relay, [
      rows.map(({ id }) => id),
      rows.map(({ r }) => r.attempt),
      rows.map(({ r }) => r.update.type),
      rows.map(({ r }) => (r.update.type === 'status' ? null : r.update.data)),
      rows.map(({ r }) => {
        const s = status(r);
        return s === null ? null : Math.trunc(s.numerator);
      }),
      rows.map(({ r }) => {
        const s = status(r);
        return s === null ? null : Math.trunc(s.denominator);
      }),
      this.host.node(),
    ]);
    this.host.updated([...new Set(rows.map(({ id }) => id))]);
  }

  /**
   * Updates of these jobs were written (another node said so; null: look at every job
   * watched, as after a lost session): reads those this node waits for.
   */
  heard(ids: readonly string[] | null): void {
    this.dirty = true;
    let wanted: Set<string> | null;
    if (ids === null) wanted = null;
    else {
      wanted = new Set(ids.filter((id) => this.cursors.has(id)));
      if (wanted.size === 0) return;
    }
    if (this.reading !== null) {
      // Read again once the read in flight is answered (it may have missed these).
      if (wanted === null || this.again === null) this.again = null;
      else if (this.again === undefined) this.again = wanted;
      else for (const id of wanted) this.again.add(id);
      return;
    }
    this.reading = this.read(wanted)
      .catch((error: unknown) => this.host.log(error, 'read the updates of foreground jobs'))
      .finally(() => {
        this.reading = null;
        const again = this.again;
        this.again = undefined;
        if (again !== undefined) this.heard(again === null ? null : [...again]);
      });
  }

  /** The heartbeat: every job watched is looked at (a notification may have been lost). */
  beat(): void {
    if (this.cursors.size > 0) this.heard(null);
    const now = Date.now();
    if (this.dirty && now - this.lastPrune > KEEP_UPDATES_MS / 5) {
      this.lastPrune = now;
      this.dirty = false;
      this.host
        .db()
        .query(this.host.st.pruneUpdates, [KEEP_UPDATES_MS])
        .catch((error: unknown) => this.host.log(error, 'prune the updates of foreground jobs'));
    }
  }

  private async read(wanted: Set<string> | null): Promise<void> {
    const ids = wanted === null ? [...this.cursors.keys()] : [...wanted];
    if (ids.length === 0) return;
    let from: bigint | null = null;
    for (const id of ids) {
      const cursor = BigInt(this.cursors.get(id) ?? '0');
      if (from === null || cursor < from) from = cursor;
    }
    const rows = await this.host
      .db()
      .query<UpdateRow>(this.host.st.updates, [ids, String(from ?? 0n), this.host.node()]);
    const byJob = new Map<string, JobUpdate[]>();
    for (const row of rows) {
      const cursor = this.cursors.get(row.job);
      // Not watched any more (ended, or its clients left), or read already.
      if (cursor === undefined || BigInt(row.id) <= BigInt(cursor)) continue;
      this.cursors.set(row.job, row.id);
      const update = updateOf(row);
      let list = byJob.get(row.job);
      if (list === undefined) byJob.set(row.job, (list = []));
      list.push(update);
      if (update.type === 'complete' || update.type === 'fail' || update.type === 'exception') {
        this.cursors.delete(row.job);
      }
    }
    const signals = this.host.signals();
    const cluster = this.host.cluster();
    for (const [job, updates] of byJob) signals?.updates(handleOf(cluster, job), updates);
  }
}

function updateOf(row: UpdateRow): JobUpdate {
  const data = row.data ?? Buffer.alloc(0);
  switch (row.kind) {
    case 'status':
      return {
        type: 'status',
        numerator: Number(row.numerator ?? 0),
        denominator: Number(row.denominator ?? 0),
      };
    case 'fail':
      return { type: 'fail', reason: (row.reason ?? 'WORK_FAIL') as FailReason };
    case 'data':
    case 'warning':
    case 'complete':
    case 'exception':
      return { type: row.kind, data };
  }
}
