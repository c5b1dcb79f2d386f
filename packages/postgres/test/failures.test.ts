// When the database cannot be reached (issue 31, item 6): a submission is refused with a
// typed error, QUEUE_ERROR on the wire, and never acknowledged; the node reconnects on its
// own; a result that cannot be written yet is written once the database is back.
import { QueueUnavailableError, type JobServer, type LoggerLike } from '@geartrain/core';
import { createClient, type GearmanClient } from '@geartrain/client';
import { GearmanServer } from '@geartrain/tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  freshSchema,
  nodeOn,
  proxyTo,
  startPostgres,
  until,
  type PostgresServer,
  type Proxy,
} from './support.js';

/** A logger that keeps what it is told to log as errors. */
function recordingLogger(): LoggerLike & { errors: string[] } {
  const errors: string[] = [];
  const ignore = () => undefined;
  return {
    errors,
    error: (_fields: object, message: string) => void errors.push(message),
    warn: ignore,
    info: ignore,
  };
}

describeWithPostgres('@geartrain/postgres when the database is away', () => {
  let db: PostgresServer;
  const proxies: Proxy[] = [];
  const servers: JobServer[] = [];
  const clients: GearmanClient[] = [];
  const listeners: GearmanServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const listener of listeners) await listener.close();
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    for (const proxy of proxies) await proxy.close();
    await db?.stop();
  }, 60_000);

  /** A node that reaches the database through a proxy the test can cut. */
  async function nodeBehindProxy(schema: string, logger?: LoggerLike) {
    const proxy = await proxyTo(db);
    proxies.push(proxy);
    const server = nodeOn(
      db,
      schema,
      { nodeName: 'A', ...(logger === undefined ? {} : { logger }) },
      { connectionString: proxy.connectionString, connectTimeout: 1000 },
    );
    servers.push(server);
    await server.ready;
    return { server, proxy };
  }

  it('refuses a submission with QUEUE_ERROR on the wire while the database is unreachable, and takes them again once it is back', async () => {
    const schema = freshSchema('away');
    const { server, proxy } = await nodeBehindProxy(schema);
    const listener = new GearmanServer(server);
    listeners.push(listener);
    await listener.listen({ host: '127.0.0.1', port: 0 });
    const client = createClient({ servers: [`127.0.0.1:${listener.address!.port}`] });
    clients.push(client);

    const before = await client.submit('away', 'before', { background: true });
    proxy.kill();
    const refused = await client.submit('away', 'during', { background: true }).then(
      () => null,
      (error: unknown) => error,
    );
    // The client reads the ERROR packet (QUEUE_ERROR "Shared queue unavailable") back into
    // the job server's own error.
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    expect(refused).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });

    proxy.revive();
    let after: string | undefined;
    await until(async () => {
      const accepted = await client.submit('away', 'after', { background: true }).then(
        (job) => job.handle,
        () => undefined,
      );
      after = accepted;
      return accepted !== undefined;
    }, 'a submission accepted once the database is reachable again');
    const payloads = await db.psql(
      `select string_agg(convert_from(payload, 'UTF8'), ',' order by id) from ${schema}.jobs`,
    );
    // The refused submission was never written; the others were, once each.
    expect(payloads.split(',').filter((p) => p === 'before')).toEqual(['before']);
    expect(payloads.split(',')).not.toContain('during');
    expect(payloads.split(',')).toContain('after');
    expect(after).not.toBe(before.handle);
  });

  it('writes a result that could not be written when the database comes back', async () => {
    const schema = freshSchema('later');
    const logger = recordingLogger();
    const { server, proxy } = await nodeBehindProxy(schema, logger);
    await server.setJobPolicy('later', { keep: { completed: { count: 10 } } });
    const finish: ((value: string) => void)[] = [];
    server.worker().register('later', () => new Promise<string>((resolve) => finish.push(resolve)));
    const completed: string[] = [];
    server.events$.subscribe((event) => {
      if (event.type === 'completed') completed.push(event.handle);
    });
    const job = await server.client().submit('later', 'x', { background: true });
    await until(() => finish.length === 1, 'the worker to take the job');

    proxy.kill();
    finish[0]!('the result');
    await until(
      () => logger.errors.some((message) => message.includes('failed to report')),
      'the report to fail while the database is away',
    );
    expect(completed).toEqual([]);

    proxy.revive();
    await until(() => completed.includes(job.handle), 'the report to be written', 15_000);
    const outcome = await server.outcome(job.handle);
    expect(outcome?.state).toBe('completed');
    expect(outcome?.result?.toString()).toBe('the result');
    expect(await db.psql(`select count(*) from ${schema}.jobs`)).toBe('0');
  });
});
