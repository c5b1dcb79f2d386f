// The queue behaviour suite, unchanged, on the shared queue in PostgreSQL: each case's
// server gets a fresh schema (an empty queue); its peers and the server reopened after it
// closed use the same schema.
import type { JobServer } from '@geartrain/core';
import { describeQueueBehaviour } from '@geartrain/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  backendOf,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres', () => {
  let db: PostgresServer;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  const peerOf = (server: JobServer, options?: object) =>
    nodeOn(db, backendOf(server).schema, options);

  describeQueueBehaviour(
    'shared queue on PostgreSQL',
    (options) => nodeOn(db, freshSchema(), options),
    {
      api: { describe, it },
      makePeer: peerOf,
      durable: true,
      reopen: peerOf,
    },
  );
});
