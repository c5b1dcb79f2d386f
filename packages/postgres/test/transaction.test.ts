// Enqueue inside the application's own transaction (issue 32, item 4): the job exists only
// if the transaction commits, and workers are woken at the commit.
import { createJobServer, type JobServer } from '@geartrain/core';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  client,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  until,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres jobs in the application transaction', () => {
  let db: PostgresServer;
  const servers: JobServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(async () => {
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    await db?.stop();
  });

  async function node(schema: string, nodeName: string): Promise<JobServer> {
    const server = nodeOn(db, schema, { nodeName });
    servers.push(server);
    await server.ready;
    return server;
  }

  it('writes the job with the order: it exists, and runs on another node, only once the transaction commits', async () => {
    const schema = freshSchema('txn');
    const a = await node(schema, 'A');
    const b = await node(schema, 'B');
    const ran: string[] = [];
    b.worker().register('close-order', (job) => {
      ran.push(job.text());
      return 'closed';
    });
    const app = await client(db, 'the-application');
    const s = pg.escapeIdentifier(schema);
    try {
      await app.query(`CREATE TABLE ${s}.orders (id int PRIMARY KEY)`);
      await app.query('BEGIN');
      await app.query(`INSERT INTO ${s}.orders VALUES (1)`);
      const job = await a.client().submit('close-order', 'order 1', { transaction: app });
      expect(job.background).toBe(true);
      // Not committed: no other session sees it, and no worker was woken for it.
      expect((await a.status(job.handle)).known).toBe(false);
      expect(ran).toEqual([]);
      await app.query('COMMIT');
      await until(() => ran.length === 1, "B's worker to run the job once the order committed");
      expect(ran).toEqual(['order 1']);
    } finally {
      await app.end();
    }
  });

  it('leaves no job behind when the transaction rolls back', async () => {
    const schema = freshSchema('rollback');
    const a = await node(schema, 'A');
    const app = await client(db, 'the-application');
    const s = pg.escapeIdentifier(schema);
    try {
      await app.query('BEGIN');
      const job = await a
        .client()
        .submit('close-order', 'order 2', { transaction: app, delay: 20 * 60_000 });
      await app.query('ROLLBACK');
      expect((await a.status(job.handle)).known).toBe(false);
      const { rows } = await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.jobs`);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await app.end();
    }
  });

  it('refuses a transaction that is no client, a foreground job in one, and a queue without a database', async () => {
    const schema = freshSchema('refused');
    const a = await node(schema, 'A');
    await expect(
      a.client().submit('f', 'x', { transaction: { begin: true } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const app = await client(db, 'the-application');
    try {
      await expect(
        a.client().submit('f', 'x', { transaction: app, background: false }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const local = createJobServer();
      servers.push(local);
      await expect(local.client().submit('f', 'x', { transaction: app })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    } finally {
      await app.end();
    }
  });
});
