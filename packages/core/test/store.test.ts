import { describe, expect, it } from 'vitest';
import {
  MemoryJobStore,
  StoreError,
  type JobRecord,
  type JobStore,
  type LoggerLike,
} from '../src/index.js';
import { grab, recorder, server, submit, workerConnection } from './helpers.js';

const ids = (store: MemoryJobStore) => store.list().map((r) => r.id);

/** A store whose writes wait until `release()`, and may fail. */
class SlowStore implements JobStore {
  readonly records = new MemoryJobStore();
  private waiting: (() => void)[] = [];
  fail = false;
  add(record: JobRecord): Promise<void> {
    return new Promise((resolve, reject) =>
      this.waiting.push(() => {
        if (this.fail) reject(new Error('disk on fire'));
        else {
          this.records.add(record);
          resolve();
        }
      }),
    );
  }
  update(record: JobRecord): void {
    this.records.update(record);
  }
  remove(record: JobRecord): void {
    this.records.remove(record);
  }
  list(): Promise<JobRecord[]> {
    return Promise.resolve(this.records.list());
  }
  highestSeq(): Promise<number> {
    return Promise.resolve(this.records.highestSeq());
  }
  release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const go of waiting) go();
  }
}

describe('persistence points (reference §5.1)', () => {
  it('stores background jobs when accepted and removes them when they end', async () => {
    const store = new MemoryJobStore();
    const s = server({ store });
    const c = s.connect();
    const bg = submit(c, { functionName: 'f', payload: 'p', background: true, unique: 'u' });
    submit(c, { functionName: 'f', payload: 'fg' }, recorder());
    submit(c, { functionName: 'f', background: true, unique: 'u' });
    expect(ids(store)).toEqual([bg.handle]);
    const w = workerConnection(s, 'f');
    const job = w.connection.grab()!;
    expect(ids(store)).toEqual([bg.handle]);
    w.connection.workComplete(job.handle);
    expect(ids(store)).toEqual([]);
    const failed = submit(c, { functionName: 'f', background: true });
    const cancelled = submit(c, { functionName: 'f', background: true });
    expect(ids(store)).toEqual([failed.handle, cancelled.handle]);
    await s.cancel(cancelled.handle);
    w.connection.grab();
    w.connection.grab();
    w.connection.workFail(failed.handle);
    expect(ids(store)).toEqual([]);
  });

  it('keeps empty-unique background jobs apart (gearmand shared one row)', () => {
    const store = new MemoryJobStore();
    const s = server({ store });
    const c = s.connect();
    submit(c, { functionName: 'f', payload: 'one', background: true });
    submit(c, { functionName: 'f', payload: 'two', background: true });
    expect(store.list().map((r) => r.payload.toString())).toEqual(['one', 'two']);
  });

  it('replays what a previous server left, with priority and time, under the handles it gave', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    const c = first.connect();
    submit(c, { functionName: 'f', payload: 'low', priority: 'low', background: true });
    submit(c, {
      functionName: 'f',
      payload: 'high',
      priority: 'high',
      background: true,
      unique: 'h',
    });
    submit(c, {
      functionName: 'f',
      payload: 'later',
      background: true,
      runAt: first.scheduler.now() + 3_600_000,
    });
    await first.close({ timeout: 0 });
    expect(store.size).toBe(3);

    const second = server({ store });
    await second.ready;
    expect((await second.jobs()).map((j) => [j.handle, j.priority, j.state, j.unique])).toEqual([
      ['H:t:1', 'low', 'queued', ''],
      ['H:t:2', 'high', 'queued', 'h'],
      ['H:t:3', 'normal', 'delayed', ''],
    ]);
    const w = workerConnection(second, 'f');
    const next = w.connection.grab()!;
    expect(next.payload.toString()).toBe('high');
    w.connection.workComplete(next.handle);
    expect(store.list().map((r) => r.payload.toString())).toEqual(['low', 'later']);
    expect(submit(second.connect(), { functionName: 'f', background: true }).handle).toBe('H:t:4');
  });

  it('keeps a background job that was running at shutdown for the next start', async () => {
    const store = new MemoryJobStore();
    const first = server({ store });
    const c = first.connect();
    submit(c, { functionName: 'f', payload: 'long', background: true });
    const w = workerConnection(first, 'f');
    expect(grab(w.connection)?.payload).toBe('long');
    await first.close({ timeout: 0 });
    expect(w.revoked).toHaveLength(1);
    const second = server({ store });
    expect((await second.jobs()).map((j) => j.state)).toEqual(['queued']);
  });
});

/** A store that commits in groups, as the SQLite store does: one promise per batch of adds. */
class BatchStore implements JobStore {
  readonly records = new MemoryJobStore();
  private batch: { promise: Promise<void>; settle: (ok: boolean) => void } | null = null;
  private waiting: JobRecord[] = [];
  add(record: JobRecord): Promise<void> {
    this.waiting.push(record);
    if (this.batch === null) {
      let settle!: (ok: boolean) => void;
      const promise = new Promise<void>((resolve, reject) => {
        settle = (ok) => (ok ? resolve() : reject(new Error('disk full')));
      });
      this.batch = { promise, settle };
    }
    return this.batch.promise;
  }
  commit(ok: boolean): void {
    if (ok) for (const r of this.waiting) this.records.add(r);
    this.waiting = [];
    this.batch?.settle(ok);
    this.batch = null;
  }
  update(record: JobRecord): void {
    this.records.update(record);
  }
  remove(record: JobRecord): void {
    this.records.remove(record);
  }
  list(): JobRecord[] {
    return this.records.list();
  }
  highestSeq(): number {
    return this.records.highestSeq();
  }
}

describe('asynchronous and failing stores', () => {
  it('lets jobs that share one commit wait together; a coalesced submission waits for its job', async () => {
    const store = new BatchStore();
    const s = server({ store });
    const c = s.connect();
    const outcomes = ['a', 'b', 'c'].map((u) =>
      c.submit({ functionName: 'f', payload: u, background: true, unique: u }),
    );
    const joined = c.submit({ functionName: 'f', background: true, unique: 'b' });
    const w = workerConnection(s, 'f');
    expect(w.connection.grab()).toBeUndefined();
    store.commit(true);
    expect(await Promise.all(outcomes.map((o) => Promise.resolve(o)))).toEqual([
      { handle: 'H:t:1', coalesced: false },
      { handle: 'H:t:2', coalesced: false },
      { handle: 'H:t:3', coalesced: false },
    ]);
    expect(await joined).toEqual({ handle: 'H:t:2', coalesced: true });
    expect(grab(w.connection)?.payload).toBe('a');

    const refused = ['d', 'e'].map((u) =>
      c.submit({ functionName: 'f', payload: u, background: true, unique: u }),
    );
    const joinedRefused = c.submit({ functionName: 'f', background: true, unique: 'e' });
    store.commit(false);
    for (const outcome of [...refused, joinedRefused]) {
      await expect(outcome).rejects.toBeInstanceOf(StoreError);
    }
    expect((await s.status('H:t:4')).known).toBe(false);
    expect(store.list().map((r) => r.unique)).toEqual(['a', 'b', 'c']);
  });

  it('accepts a background job only once written; it runs after that', async () => {
    const store = new SlowStore();
    const s = server({ store });
    await s.ready;
    const c = s.connect();
    const w = workerConnection(s, 'f');
    const outcome = c.submit({ functionName: 'f', payload: 'x', background: true, unique: 'u' });
    expect(outcome).toBeInstanceOf(Promise);
    const joined = c.submit({ functionName: 'f', background: true, unique: 'u' });
    expect(w.connection.grab()).toBeUndefined();
    store.release();
    expect(await outcome).toEqual({ handle: 'H:t:1', coalesced: false });
    expect(await joined).toEqual({ handle: 'H:t:1', coalesced: true });
    expect(grab(w.connection)?.payload).toBe('x');
  });

  it('lets a coalesced submission wait for its job when a dead letter joins the same commit', async () => {
    const store = new BatchStore();
    const s = server({ store });
    await s.ready;
    const w = workerConnection(s, 'f');
    const c = s.connect();
    const dead = c.submit({ functionName: 'f', payload: 'old', background: true });
    store.commit(true);
    const { handle } = await dead;
    w.connection.grab();
    w.connection.workFail(handle);
    // One batch: a newer job, the dead letter run again (a lower seq), then a coalesced
    // submission onto the newer job. It must not be answered before the commit.
    const newer = c.submit({ functionName: 'f', payload: 'new', background: true, unique: 'n' });
    const rerun = s.retry(handle);
    let joined = false;
    const join = Promise.resolve(
      c.submit({ functionName: 'f', background: true, unique: 'n' }),
    ).then(() => (joined = true));
    await new Promise((r) => setImmediate(r));
    expect(joined).toBe(false);
    store.commit(true);
    await Promise.all([newer, rerun, join]);
    expect(joined).toBe(true);
  });

  it('does not accept a job the store refused, and says so with a StoreError', async () => {
    const store = new SlowStore();
    store.fail = true;
    const s = server({ store });
    await s.ready;
    const c = s.connect();
    const outcome = c.submit({ functionName: 'f', background: true, unique: 'u' });
    const joined = c.submit({ functionName: 'f', background: true, unique: 'u' });
    store.release();
    await expect(outcome).rejects.toBeInstanceOf(StoreError);
    await expect(joined).rejects.toBeInstanceOf(StoreError);
    expect((await s.status('H:t:1')).known).toBe(false);
    expect((await s.functions())[0]?.total).toBe(0);

    const throwing: JobStore = {
      add: () => {
        throw new Error('read-only');
      },
      update: () => undefined,
      remove: () => undefined,
      list: () => [],
      highestSeq: () => 0,
    };
    const t = server({ store: throwing });
    expect(() => submit(t.connect(), { functionName: 'f', background: true })).toThrow(StoreError);
    expect(await t.jobs()).toEqual([]);
  });

  it('logs a failed removal and carries on', async () => {
    const errors: object[] = [];
    const logger = {
      info: () => undefined,
      warn: () => undefined,
      error: (o: object) => errors.push(o),
    } satisfies LoggerLike;
    const store: JobStore = {
      add: () => undefined,
      update: () => undefined,
      remove: () => {
        throw new Error('gone');
      },
      list: () => [],
      highestSeq: () => 0,
    };
    const s = server({ store, logger });
    const c = s.connect();
    const { handle } = submit(c, { functionName: 'f', background: true });
    const w = workerConnection(s, 'f');
    w.connection.grab();
    w.connection.workComplete(handle);
    expect(errors).toEqual([{ err: new Error('gone'), record: handle }]);
    expect(await s.jobs()).toEqual([]);
  });
});
