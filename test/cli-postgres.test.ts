// `geartrain serve --store postgres://…`: the command as a node of the shared queue, with
// what the URL leaves out read from the standard PG* variables, as psql reads them.
import { createClient, createWorker } from '@geartrain/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { envWithoutPg } from './support/cluster.js';
import { runGeartrain, serveCommand, type ServedCommand } from './support/command.js';
import { freePort } from './support/interop.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

describeWithPostgres('geartrain serve --store postgres://', () => {
  let db: PostgresServer;
  const nodes: ServedCommand[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const node of nodes) await node.stop('SIGKILL');
    await db?.stop();
  }, 60_000);

  it('serves as a node of the shared queue: a job submitted to one runs on a worker of the other', async () => {
    // Node A gets an empty URL: everything comes from the PG* variables.
    const a = await serveCommand(['--port', '0', '--store', 'postgres://'], {
      env: {
        ...envWithoutPg(),
        PGHOST: db.host,
        PGPORT: String(db.port),
        PGUSER: db.user,
        PGDATABASE: db.database,
      },
    });
    nodes.push(a);
    expect(a.line).toContain(
      `jobs stored in PostgreSQL ${db.user}@${db.host}:${db.port}/${db.database} (schema geartrain), shared with other nodes`,
    );
    const b = await serveCommand(['--port', '0', '--store', db.connectionString], {
      env: envWithoutPg(),
    });
    nodes.push(b);

    const client = createClient({ servers: [a.address] });
    const onB = createClient({ servers: [b.address] });
    const worker = createWorker({ servers: [b.address] });
    try {
      const job = await client.submit('cli-pg', 'hello', { background: true });
      expect(await onB.status(job.handle)).toMatchObject({ known: true, running: false });
      const ran = new Promise<string>((resolve) => {
        worker.register('cli-pg', (j) => {
          resolve(j.text());
          return 'done';
        });
      });
      expect(await ran).toBe('hello');
      for (let i = 0; (await client.status(job.handle)).known; i++) {
        if (i > 100) throw new Error('the job is still known on node A after 5 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      client.close();
      onB.close();
      await worker.close({ timeout: 0 });
    }
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    // Both left: no node of theirs is registered any more.
    expect(await db.psql('select count(*) from geartrain.nodes')).toBe('0');
  });

  it('exits 1 with the reason when the database cannot be reached', async () => {
    const port = await freePort();
    const result = await runGeartrain(
      ['serve', '--port', '0', '--store', `postgres://postgres@127.0.0.1:${port}/postgres`],
      envWithoutPg(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr.toString()).toMatch(/cannot connect to PostgreSQL: .*ECONNREFUSED/);
  });
});
