// The queue's schema: made at open, once, however many nodes start at once; versioned;
// a newer one refused with a typed error that the job server carries as its cause.
import { createJobServer, GeartrainError } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, SCHEMA_VERSION } from '../src/schema.js';
import { postgresQueue, PostgresQueueError } from '../src/index.js';
import { clientConfig } from '../src/connections.js';
import { settingsOf } from '../src/options.js';
import {
  describeWithPostgres,
  freshSchema,
  openBackend,
  startPostgres,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres schema', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  const configOf = (schema: string) =>
    clientConfig(settingsOf({ connectionString: db.connectionString, schema }), 'test');

  it('is made once when several nodes open at the same time, with one cluster id', async () => {
    const schema = freshSchema('race');
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => openBackend(db.connectionString, schema)),
    );
    try {
      const clusters = new Set(opened.map(({ queue }) => queue.clusterId));
      expect(clusters.size).toBe(1);
      expect(await db.psql(`select value from ${schema}.meta where key = 'version'`)).toBe(
        String(SCHEMA_VERSION),
      );
      expect(
        Number(await db.psql(`select count(*) from ${schema}.nodes`)),
        'the four nodes registered',
      ).toBe(4);
      // Migrating again changes nothing: same cluster, same version.
      const again = await migrate(configOf(schema), schema);
      expect(again).toEqual({ version: SCHEMA_VERSION, cluster: [...clusters][0] });
    } finally {
      await Promise.all(opened.map(({ queue }) => queue.close()));
    }
  });

  it('migrates one version at a time, under the lock, from an older schema', async () => {
    const schema = freshSchema('steps');
    const base = (s: string) => `CREATE TABLE ${s}.first (a int)`;
    const next = (s: string) => `CREATE TABLE ${s}.second (b int)`;
    expect((await migrate(configOf(schema), schema, [base])).version).toBe(1);
    const [one, two] = await Promise.all([
      migrate(configOf(schema), schema, [base, next]),
      migrate(configOf(schema), schema, [base, next]),
    ]);
    expect(one).toEqual(two);
    expect(one.version).toBe(2);
    expect(await db.psql(`select count(*) from ${schema}.second`)).toBe('0');
  });

  it('refuses a schema of a newer release with NEWER_SCHEMA, leaving it untouched', async () => {
    const schema = freshSchema('newer');
    await migrate(configOf(schema), schema);
    await db.psql(
      `update ${schema}.meta set value = '${SCHEMA_VERSION + 1}' where key = 'version'`,
    );
    const error = await migrate(configOf(schema), schema).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresQueueError);
    expect(error).toMatchObject({ code: 'QUEUE_OPEN_FAILED', reason: 'NEWER_SCHEMA' });
    expect((error as Error).message).toMatch(/newer release of geartrain/);
    expect(await db.psql(`select value from ${schema}.meta where key = 'version'`)).toBe(
      String(SCHEMA_VERSION + 1),
    );

    // A job server on it does not start: its `ready` rejects, the cause says why.
    const server = createJobServer({
      queue: postgresQueue({ connectionString: db.connectionString, schema }),
    });
    const refused = await server.ready.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GeartrainError);
    expect((refused as { cause?: unknown }).cause).toBeInstanceOf(PostgresQueueError);
    await server.close({ timeout: 0 });
  });

  it('refuses an unreachable database with CANNOT_CONNECT', async () => {
    const schema = freshSchema('nowhere');
    const config = clientConfig(
      settingsOf({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', schema }),
      'test',
    );
    await expect(migrate(config, schema)).rejects.toMatchObject({ reason: 'CANNOT_CONNECT' });
  });

  it('checks its options', () => {
    expect(() => postgresQueue({ schema: 'Robert"; drop table' })).toThrow(/schema/);
    expect(() => postgresQueue({ pool: 0 })).toThrow(/pool/);
    expect(() => postgresQueue({ lease: 1000, heartbeat: 1000 })).toThrow(/lease/);
    expect(() => postgresQueue({ leese: 5 } as never)).toThrow(/leese/);
  });
});
