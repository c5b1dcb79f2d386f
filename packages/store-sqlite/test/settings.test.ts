// Each function's settings record in the store file (schema 5): kept across a restart
// (`setJobPolicy` included), and carried over from the pauses and limits of a schema 4 file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJobServer, type JobServer } from '@geartrain/core';
import { Database } from '../src/binding.js';
import { SqliteJobStore } from '../src/index.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../src/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-sqlite-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `${++files}.sqlite`);

const servers: JobServer[] = [];
function serverOn(path: string): JobServer {
  const server = createJobServer({ store: SqliteJobStore.open(path), releaseMemory: false });
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close({ timeout: 0 });
});

describe('settings records in the store file', () => {
  it('keeps a policy set by setJobPolicy, and the rest of the record, across a restart', async () => {
    const path = fresh();
    const first = serverOn(path);
    await first.ready;
    await first.setJobPolicy('charge', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 500, max: 8000 },
      keep: { completed: { count: Infinity }, failed: { count: 50, age: 60_000 } },
    });
    await first.configure('charge', { concurrency: 4, maxQueue: { low: 9 } });
    await first.pause('mail');
    const before = await first.configured();
    await first.close();

    const second = serverOn(path);
    await second.ready;
    expect(await second.jobPolicy('charge')).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 500, max: 8000 },
      keep: { completed: { count: Infinity }, failed: { count: 50, age: 60_000 } },
    });
    expect(await second.configured()).toEqual(before);
    expect(await second.paused('mail')).toBe(true);
    // Put back to its defaults, the function's row goes.
    await second.configure('mail', { paused: false });
    await second.close();
    const db = new Database(path, { readonly: true });
    expect(
      db.prepare(`SELECT function_name FROM geartrain_settings ORDER BY 1`).pluck().all(),
    ).toEqual(['charge']);
    db.close();
  });

  it('carries the pauses and limits of a schema 4 file over into settings records', async () => {
    const path = fresh();
    // A file as the release before settings records wrote it: schema 4, two controls.
    const db = new Database(path);
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    migrate(db, path, 'jobs', MIGRATIONS.slice(0, 4));
    const insert = db.prepare(`INSERT INTO geartrain_controls VALUES (?, ?, ?, ?, ?)`);
    insert.run('mail', 1, null, null, null);
    insert.run('pay', 0, 10, 1000.5, 2);
    expect(db.pragma('user_version', { simple: true })).toBe(4);
    db.close();

    const server = serverOn(path);
    await server.ready;
    expect((await server.configured()).map((s) => s.configured)).toEqual([
      { functionName: 'mail', paused: true },
      { functionName: 'pay', rate: { max: 10, duration: 1000.5 }, concurrency: 2 },
    ]);
    expect(await server.controls()).toEqual([
      { functionName: 'mail', paused: true, rate: null, concurrency: null },
      { functionName: 'pay', paused: false, rate: { max: 10, duration: 1000.5 }, concurrency: 2 },
    ]);
    await server.close();

    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(
      after.prepare(`SELECT name FROM sqlite_master WHERE name = 'geartrain_controls'`).all(),
    ).toEqual([]);
    after.close();
  });
});
