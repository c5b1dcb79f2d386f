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
  proxyTo,
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
      const before = await mark(db);
      const from = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const seconds = (Date.now() - from) / 1000;
      const during = await since(db, before, name);
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

  it("sends a turn's submissions in one statement, and acknowledges none before it is answered", async () => {
    const schema = freshSchema('turn');
    const name = `turn-${process.pid}`;
    const proxy = await proxyTo(db);
    const server = nodeOn(
      db,
      schema,
      { nodeName: name },
      { applicationName: name, connectionString: proxy.connectionString },
    );
    await server.ready;
    try {
      const client = server.client();
      const before = await mark(db);
      // The database takes the statement and commits it; its answer is held back.
      proxy.holdAnswers();
      let acknowledged = 0;
      const submitted = Array.from({ length: 50 }, (_, i) =>
        client.submit('turn', `job-${i}`, { background: true }).then((job) => {
          acknowledged++;
          return job;
        }),
      );
      await until(
        async () => (await db.psql(`select count(*) from ${schema}.jobs`)) === '50',
        'the 50 jobs to be committed',
      );
      expect(acknowledged, 'acknowledged before the answer came back').toBe(0);
      proxy.thaw();
      const jobs = await Promise.all(submitted);
      expect(new Set(jobs.map((job) => job.handle)).size).toBe(50);
      const during = await since(db, before, name);
      expect(during.filter((line) => line.includes('gt_submit'))).toHaveLength(1);
    } finally {
      await server.close();
      await proxy.close();
    }
  });

  it('writes progress a few times a second at most, and the ends of a turn in one statement', async () => {
    const schema = freshSchema('progress');
    const name = `progress-${process.pid}`;
    const a = nodeOn(db, schema, { nodeName: name }, { applicationName: name });
    const b = nodeOn(db, schema, { nodeName: 'B' });
    await Promise.all([a.ready, b.ready]);
    try {
      let finish!: () => void;
      const held = new Promise<void>((resolve) => (finish = resolve));
      let started = 0;
      let updated = 0;
      a.worker().register(
        'progress',
        async (job) => {
          started = Date.now();
          // 200 updates, one every few ms; the last one is 200/200.
          for (let i = 1; i <= 200; i++) {
            job.status(i, 200);
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          updated = Date.now();
          // Held until the test saw the last numbers from the other node.
          await held;
          return 'done';
        },
        { concurrency: 1 },
      );
      const before = await mark(db);
      const job = await b.client().submit('progress', 'x', { background: true });
      // The last numbers reach every node.
      await until(
        async () => (await b.status(job.handle)).numerator === 200,
        'the last progress, seen from B',
      );
      const seconds = (updated - started) / 1000;
      const progress = (await since(db, before, name)).filter((line) =>
        line.includes('gt_progress'),
      ).length;
      console.log(`progress: 200 updates in ${seconds.toFixed(2)} s, ${progress} writes`);
      // At most one write every 250 ms, the first at once, the last numbers after the end.
      expect(progress).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
      finish();
      await until(async () => !(await b.status(job.handle)).known, 'the job to end');
      expect(await db.psql(`select count(*) from ${schema}.jobs`)).toBe('0');

      // Thirty jobs that end in one turn are reported in one statement.
      const release: (() => void)[] = [];
      a.worker().register(
        'batch',
        () => new Promise<string>((resolve) => release.push(() => resolve('ok'))),
        { concurrency: 30 },
      );
      const batch = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          b.client().submit('batch', `${i}`, { background: true }),
        ),
      );
      await until(() => release.length === 30, 'the 30 jobs to start on A');
      const beforeEnds = await mark(db);
      for (const end of release) end();
      for (const { handle } of batch) {
        await until(async () => !(await b.status(handle)).known, `${handle} to end`);
      }
      // (Completions whose outcome is not kept go by the lean statement, gt_complete.)
      const reports = (await since(db, beforeEnds, name)).filter(
        (line) => line.includes('gt_report') || line.includes('gt_complete'),
      ).length;
      expect(reports).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

let marks = 0;

/**
 * A mark in the server's log: a statement run and waited for (the log arrives through a
 * pipe, in order), so that every statement logged before it is in the log.
 */
async function mark(db: PostgresServer): Promise<string> {
  const marker = `log-mark-${process.pid}-${++marks}`;
  await db.psql(`select '${marker}'`);
  await until(() => db.log().includes(marker), 'the server log to catch up');
  return marker;
}

/**
 * The statements of sessions of `name` the server logged after `from` (a {@link mark}) and
 * up to now. The harness keeps the log's last 64 kB: a window must fit in it.
 */
async function since(db: PostgresServer, from: string, name: string): Promise<string[]> {
  const to = await mark(db);
  const log = db.log();
  const start = log.indexOf(from);
  if (start < 0) throw new Error('the server log dropped the mark: a window too long');
  return statements(log.slice(start, log.indexOf(to)), name);
}

/** The statements the server logged for sessions of `name` (execute lines, one each). */
function statements(log: string, name: string): string[] {
  return log
    .split('\n')
    .filter((line) => line.includes(`[${name}:`) && /LOG: {2}(execute|statement)/.test(line));
}
