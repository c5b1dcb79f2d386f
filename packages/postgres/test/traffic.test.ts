// What the queue sends the database: NOTIFY debounced under a submit storm, and an idle
// node's queries (the server logs every statement, by session name).
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { keysOf } from '../src/statements.js';
import {
  client,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  openBackend,
  startPostgres,
  submission,
  until,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres database traffic', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres({
      settings: { log_statement: 'all', log_line_prefix: "'[%a] '" },
    });
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it('sends at most 20 NOTIFY a second under a submit storm, naming the functions', async () => {
    const schema = freshSchema('storm');
    const a = await openBackend(db.connectionString, schema, {}, 'A');
    const b = await openBackend(db.connectionString, schema, {}, 'B');
    const listener = await client(db);
    const received: string[] = [];
    listener.on('notification', (message) => received.push(message.payload ?? ''));
    await listener.query(`LISTEN ${pg.escapeIdentifier(keysOf(schema).channel)}`);
    try {
      const started = Date.now();
      let batches = 0;
      // Four batches in flight at a time, for 1.5 s.
      const lanes = Array.from({ length: 4 }, async (_, lane) => {
        while (Date.now() - started < 1500) {
          await a.queue.submit(
            Array.from({ length: 10 }, (_, i) => submission(`fn-${(lane + i) % 3}`, 'x')),
          );
          batches++;
        }
      });
      await Promise.all(lanes);
      const elapsed = Date.now() - started;
      await until(() => received.length === a.queue.notifications, 'the last NOTIFY to arrive');
      const allowed = Math.ceil((elapsed / 1000) * 20) + 1;
      console.log(
        `storm: ${batches} batches (${batches * 10} jobs) in ${elapsed} ms, ${received.length} NOTIFY`,
      );
      expect(batches).toBeGreaterThan(50);
      expect(received.length).toBeLessThanOrEqual(allowed);
      const named = new Set(received.flatMap((p) => (JSON.parse(p) as { f?: string[] }).f ?? []));
      expect([...named].sort()).toEqual(['fn-0', 'fn-1', 'fn-2']);
      // The other node heard them as wake-ups for those functions.
      const heard = new Set(b.heard.waiting.flatMap((names) => names ?? []));
      expect([...heard].sort()).toEqual(['fn-0', 'fn-1', 'fn-2']);
    } finally {
      await listener.end();
      await a.queue.close();
      await b.queue.close();
    }
  });

  it('an idle node with a sleeping worker makes one query a second: its heartbeat', async () => {
    const schema = freshSchema('idle');
    const name = `idle-${process.pid}`;
    const server = nodeOn(db, schema, { nodeName: name }, { applicationName: name });
    await server.ready;
    server.worker().register('idle-fn', () => 'never');
    try {
      // Settled: the worker's first claim made.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = statements(db.log(), name);
      const from = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const seconds = (Date.now() - from) / 1000;
      const during = statements(db.log(), name).slice(before.length);
      const heartbeats = during.filter((s) => s.includes('gt_heartbeat')).length;
      const claims = during.filter((s) => s.includes('gt_claim')).length;
      const others = during.length - heartbeats - claims;
      console.log(
        `idle node: ${during.length} statements in ${seconds.toFixed(1)} s ` +
          `(${heartbeats} heartbeats, ${claims} backstop claims, ${others} others)`,
      );
      // One a second, and one more for a window that begins just before a heartbeat.
      expect(during.length).toBeLessThanOrEqual(Math.floor(seconds) + 1);
      expect(heartbeats).toBeGreaterThanOrEqual(Math.floor(seconds) - 1);
      // The job server's backstop poll still asks every second; the queue answers it
      // without a query, as its function had no job and nothing was heard of it since.
      expect(claims, 'claims of the backstop poll').toBe(0);
      expect(others).toBe(0);
    } finally {
      await server.close();
    }
  });
});

/** The statements the server logged for sessions of `name` (execute lines, one each). */
function statements(log: string, name: string): string[] {
  return log
    .split('\n')
    .filter((line) => line.includes(`[${name}:`) && /LOG: {2}(execute|statement)/.test(line));
}
