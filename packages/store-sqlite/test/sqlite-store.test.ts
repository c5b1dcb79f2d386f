import { Database } from '../src/binding.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJobServer, StoreError, type JobRecord } from '@geartrain/core';
import { SqliteJobStore, StoreOpenError, type SqliteJobStoreOptions } from '../src/index.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../src/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `${++files}.sqlite`);

const open: SqliteJobStore[] = [];
function openStore(path = fresh(), options: SqliteJobStoreOptions = {}): SqliteJobStore {
  const store = SqliteJobStore.open(path, options);
  open.push(store);
  return store;
}
afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

let seq = 0;
function record(fields: Partial<JobRecord> = {}): JobRecord {
  seq++;
  return {
    seq,
    id: `H:t:${seq}`,
    functionName: 'f',
    unique: '',
    priority: 'normal',
    payload: Buffer.from('x'),
    runAt: 0,
    reducer: '',
    attempts: 0,
    retry: null,
    ...fields,
  };
}

function openError(body: () => unknown): StoreOpenError {
  try {
    body();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreOpenError);
    return error as StoreOpenError;
  }
  throw new Error('expected a StoreOpenError');
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const fileBytes = (path: string) =>
  statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);

describe('group commit', () => {
  it('commits the writes of one turn in one transaction, and acknowledges after it', async () => {
    const log: string[] = [];
    const store = openStore(fresh(), { onCommit: (_s, writes) => log.push(`commit ${writes}`) });
    const acks = Array.from({ length: 100 }, () => store.add(record()).then(() => log.push('ack')));
    expect(log).toEqual([]);
    await Promise.all(acks);
    expect(log[0]).toBe('commit 100');
    expect(log.slice(1)).toEqual(Array<string>(100).fill('ack'));
    expect([...store.list()]).toHaveLength(100);
  });

  it('bounds a transaction to maxBatch writes', async () => {
    const commits: number[] = [];
    const store = openStore(fresh(), { maxBatch: 10, onCommit: (_s, n) => commits.push(n) });
    await Promise.all(Array.from({ length: 25 }, () => store.add(record())));
    expect(commits).toEqual([10, 10, 5]);
  });

  it('drops the update of a job that also ends in the same transaction', async () => {
    const store = openStore();
    const a = record();
    const b = record();
    await Promise.all([store.add(a), store.add(b)]);
    store.update({ ...a, attempts: 1 });
    store.remove(a);
    store.update({ ...b, attempts: 1 });
    store.flush();
    expect([...store.list()].map((r) => [r.seq, r.attempts])).toEqual([[b.seq, 1]]);
  });

  it('never writes a record added and removed in one batch, but counts its seq', async () => {
    const path = fresh();
    const store = openStore(path);
    const kept = record();
    const gone = record();
    const added = Promise.all([store.add(kept), store.add(gone)]);
    store.remove(gone);
    await added;
    expect([...store.list()].map((r) => r.seq)).toEqual([kept.seq]);
    expect(store.highestSeq()).toBe(gone.seq);
  });

  it('removes finished rows before adding new ones, so a full file takes jobs in their room', async () => {
    const store = openStore(fresh(), { maxBytes: 200 * 1024 });
    const payload = Buffer.alloc(3000, 1);
    const filled: JobRecord[] = [];
    for (;;) {
      const r = record({ payload });
      try {
        await store.add(r);
      } catch {
        break;
      }
      filled.push(r);
    }
    // In one batch: ten jobs end, five new ones come. They fit only in the room freed.
    for (const r of filled.slice(0, 10)) store.remove(r);
    await Promise.all(Array.from({ length: 5 }, () => store.add(record({ payload }))));
    expect([...store.list()]).toHaveLength(filled.length - 10 + 5);
  });

  it('acknowledges a submission on the wire of the server only once committed', async () => {
    const commits: number[] = [];
    const store = openStore(fresh(), { onCommit: (_s, n) => commits.push(n) });
    const server = createJobServer({ store });
    const client = server.client();
    const submitted = Promise.all(
      Array.from({ length: 50 }, (_, i) => client.submit('f', `p${i}`, { background: true })),
    );
    expect(commits).toEqual([]);
    const jobs = await submitted;
    expect(commits).toEqual([50]);
    expect(jobs.map((j) => j.handle)).toEqual([...store.list()].map((r) => r.id));
    await server.close({ timeout: 0 });
  });
});

describe('the file', () => {
  it('gives its space back after a burst drains, and keeps the log bounded', async () => {
    let over!: () => void;
    const vacuumed = new Promise<void>((resolve) => (over = resolve));
    const path = fresh();
    const store = openStore(path, {
      walLimit: 1 << 20,
      onVacuum: (_freed, _left, done) => done && over(),
    });
    await store.add(record());
    store.flush();
    const before = fileBytes(path);
    const payload = Buffer.alloc(1000, 7);
    const burst: JobRecord[] = [];
    for (let i = 0; i < 20_000; i++) burst.push(record({ payload }));
    for (let i = 0; i < burst.length; i += 5000) {
      await Promise.all(burst.slice(i, i + 5000).map((r) => store.add(r)));
    }
    const peak = fileBytes(path);
    expect(peak).toBeGreaterThan(20_000_000);
    for (const r of burst) store.remove(r);
    store.flush();
    await vacuumed;
    const after = fileBytes(path);
    expect(after).toBeLessThanOrEqual(2 * Math.max(before, 64 * 1024));
    expect([...store.list()]).toHaveLength(1);
  });

  it('refuses a second store on the same file while the first is open', () => {
    const path = fresh();
    openStore(path);
    const error = openError(() => SqliteJobStore.open(path));
    expect(error.reason).toBe('LOCKED');
    expect(error.message).toMatch(/in use by another geartrain server/);
  });

  it('refuses a file that is not a database, and leaves it as it was', () => {
    const path = fresh();
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(path, garbage);
    const error = openError(() => SqliteJobStore.open(path));
    expect(error.reason).toBe('CORRUPT');
    expect(error.message).toMatch(/left untouched/);
    expect(createHash('sha1').update(readFileSync(path)).digest('hex')).toBe(
      createHash('sha1').update(garbage).digest('hex'),
    );
  });

  it('refuses a store whose pages are damaged rather than starting empty', async () => {
    const path = fresh();
    const store = SqliteJobStore.open(path);
    await Promise.all(
      Array.from({ length: 2000 }, () => store.add(record({ payload: Buffer.alloc(500, 1) }))),
    );
    store.close();
    const bytes = readFileSync(path);
    // Overwrite a stretch of pages in the middle of the jobs table.
    bytes.fill(0xff, 40 * 4096, 60 * 4096);
    writeFileSync(path, bytes);
    const error = openError(() => {
      const damaged = SqliteJobStore.open(path);
      open.push(damaged);
      return [...damaged.list()];
    });
    expect(error.reason).toBe('CORRUPT');
  });

  it('refuses an SQLite file of another program, naming the import for a gearmand queue', () => {
    const path = fresh();
    const db = new Database(path);
    db.exec(
      'CREATE TABLE gearman_queue (unique_key TEXT, function_name TEXT, priority INTEGER, data BLOB, when_to_run INTEGER)',
    );
    db.close();
    const error = openError(() => SqliteJobStore.open(path));
    expect(error.reason).toBe('FOREIGN');
    expect(error.message).toMatch(/gearmand queue file.*geartrain import-gearmand/);
    const other = fresh();
    const db2 = new Database(other);
    db2.exec('CREATE TABLE customers (id INTEGER)');
    db2.close();
    expect(openError(() => SqliteJobStore.open(other)).message).toMatch(/another program/);
  });

  it('refuses a file of a newer release with a clear message', () => {
    const path = fresh();
    SqliteJobStore.open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const error = openError(() => SqliteJobStore.open(path));
    expect(error.reason).toBe('NEWER_SCHEMA');
    expect(error.message).toMatch(/newer release of geartrain/);
  });

  it('opens a file of schema 1 (before per-job retry policies) with its jobs', () => {
    const path = fresh();
    // A file as the first release wrote it: schema 1, one job in it.
    const db = new Database(path);
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    migrate(db, path, 'jobs', MIGRATIONS.slice(0, 1));
    db.prepare(`INSERT INTO jobs VALUES (7, 'H:old:7', 'mail', 'u-7', 0, x'00ff', 0, '', 1)`).run();
    db.prepare(`UPDATE geartrain_meta SET value = 7 WHERE key = 'highest_seq'`).run();
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
    const store = openStore(path);
    expect([...store.list()]).toEqual([
      {
        seq: 7,
        id: 'H:old:7',
        functionName: 'mail',
        unique: 'u-7',
        priority: 'high',
        payload: Buffer.from([0, 0xff]),
        runAt: 0,
        reducer: '',
        attempts: 1,
        retry: null,
      },
    ]);
    expect(store.highestSeq()).toBe(7);
  });

  it("reads kept outcomes written before attempts' errors had a message, a class name and a stack", () => {
    const path = fresh();
    openStore(path).close();
    // An outcome row as the release before wrote it: each error's data in base64, nothing else.
    const db = new Database(path);
    const errors = JSON.stringify([
      {
        attempt: 1,
        reason: 'EXCEPTION',
        data: Buffer.from('declined').toString('base64'),
        time: 5,
      },
      { attempt: 2, reason: 'WORKER_LOST', data: null, time: 9 },
    ]);
    db.prepare(
      `INSERT INTO geartrain_outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run([
      3,
      'H:old:3',
      'pay',
      '',
      1,
      'failed',
      'RETRIES_EXHAUSTED',
      Buffer.from('p'),
      0,
      2,
      errors,
      0,
      1,
      9,
      '',
    ]);
    db.close();
    const [outcome] = [...openStore(path).listOutcomes()];
    expect(outcome!.errors).toEqual([
      {
        attempt: 1,
        reason: 'EXCEPTION',
        message: 'declined',
        data: Buffer.from('declined'),
        name: null,
        stack: null,
        time: 5,
      },
      {
        attempt: 2,
        reason: 'WORKER_LOST',
        message: null,
        data: null,
        name: null,
        stack: null,
        time: 9,
      },
    ]);
  });

  it('opens a file of an older schema and brings it up to date, jobs kept', async () => {
    const path = fresh();
    const old = SqliteJobStore.open(path, { migrations: MIGRATIONS });
    const r = record({ unique: 'kept' });
    await old.add(r);
    old.close();
    const next = [
      ...MIGRATIONS,
      {
        to: SCHEMA_VERSION + 1,
        up: (db: Database, table: string) =>
          db.exec(`CREATE INDEX "${table}_by_unique" ON "${table}" (function_name, unique_key)`),
      },
    ];
    const store = openStore(path, { migrations: next });
    expect([...store.list()].map((x) => x.unique)).toEqual(['kept']);
    store.close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).pluck().all(),
    ).toContain('jobs_by_unique');
    db.close();
  });

  it('refuses another table name than the file keeps its jobs in', () => {
    const path = fresh();
    SqliteJobStore.open(path, { table: 'queue_a' }).close();
    expect(openError(() => SqliteJobStore.open(path, { table: 'queue_b' })).message).toMatch(
      /--libsqlite3-table queue_a/,
    );
    SqliteJobStore.open(path, { table: 'queue_a' }).close();
  });
});

describe('when the store fails', () => {
  it('refuses new jobs with a StoreError while the file is full, keeps every accepted one, and recovers', async () => {
    const path = fresh();
    const store = openStore(path, { maxBytes: 256 * 1024 });
    const server = createJobServer({ store });
    const client = server.client();
    const payload = Buffer.alloc(2000, 3);
    const accepted: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < 1000 && refusal === undefined; i++) {
      try {
        accepted.push((await client.submit('f', payload, { background: true })).handle);
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(StoreError);
    expect((refusal as StoreError).code).toBe('STORE_FAILED');
    expect(accepted.length).toBeGreaterThan(10);
    expect([...store.list()].map((r) => r.id)).toEqual(accepted);
    // A worker drains some jobs: their rows go, and there is room again.
    let ran = 0;
    let drained!: () => void;
    const enough = new Promise<void>((resolve) => (drained = resolve));
    server.worker().register('f', () => {
      if (++ran === 20) drained();
    });
    await enough;
    for (let i = 0; i < 50 && [...store.list()].length > accepted.length - 20; i++) await turn();
    const again = await client.submit('g', payload, { background: true });
    expect((await server.status(again.handle)).known).toBe(true);
    await server.close({ timeout: 0 });
  });

  // chattr +i needs root (CAP_LINUX_IMMUTABLE): skipped for others, except under CI.
  const root = process.getuid?.() === 0 || process.env['CI'] === 'true';
  it.skipIf(!root)(
    'refuses new jobs while its files cannot be written, and goes on once they can',
    async () => {
      const path = fresh();
      const store = openStore(path);
      const server = createJobServer({ store });
      const client = server.client();
      const before = await client.submit('f', 'before', { background: true });
      store.flush();
      // As when the disk fails and its file system turns read-only: writes through the open
      // files fail (EPERM for an immutable file, even for root).
      const files = [path, `${path}-wal`].filter((f) => existsSync(f));
      execFileSync('chattr', ['+i', ...files]);
      let refusal: unknown;
      try {
        await client.submit('f', 'during', { background: true });
      } catch (error) {
        refusal = error;
      } finally {
        execFileSync('chattr', ['-i', ...files]);
      }
      expect(refusal).toBeInstanceOf(StoreError);
      const after = await client.submit('f', 'after', { background: true });
      await server.close({ timeout: 0 });
      const again = openStore(path);
      expect([...again.list()].map((r) => [r.id, r.payload.toString()])).toEqual([
        [before.handle, 'before'],
        [after.handle, 'after'],
      ]);
    },
  );

  it('refuses a file it cannot write', () => {
    const ro = join(dir, 'read-only');
    const path = join(ro, 'jobs.sqlite');
    mkdirSync(ro);
    SqliteJobStore.open(path).close();
    const unmount = makeReadOnly(ro);
    try {
      const error = openError(() => SqliteJobStore.open(path));
      expect(['READ_ONLY', 'CANNOT_OPEN']).toContain(error.reason);
      expect(error.message).toMatch(/cannot|read-only|readonly/i);
    } finally {
      unmount();
    }
  });
});

/**
 * Makes a folder read-only for this process: by its mode, or, for root (whom modes do not
 * stop), by mounting it read-only over itself.
 */
function makeReadOnly(folder: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(join(folder, 'jobs.sqlite'), 0o444);
    chmodSync(folder, 0o555);
    return () => chmodSync(folder, 0o755);
  }
  execFileSync('mount', ['--bind', folder, folder]);
  execFileSync('mount', ['-o', 'remount,ro,bind', folder]);
  return () => execFileSync('umount', [folder]);
}
