// What the package's tests share: a PostgreSQL of their own (the repository's harness, by
// relative path), a fresh schema per queue, nodes on it, and bounded waits.
import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import pg from 'pg';
import type { PostgresServer } from '../../../test/support/postgres/index.js';
import { postgresQueue, type PostgresQueue, type PostgresQueueOptions } from '../src/index.js';

export {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from '../../../test/support/postgres/index.js';

let schemas = 0;

/** A schema name not used yet in this test file's database. */
export function freshSchema(prefix = 'q'): string {
  return `${prefix}_${process.pid}_${++schemas}`;
}

/** A node (job server) on the queue in `schema`; its backend beside it. */
export interface TestNode {
  readonly server: JobServer;
  readonly queue: PostgresQueue;
}

const backends = new WeakMap<JobServer, { queue: PostgresQueue; schema: string }>();

export function nodeOn(
  db: PostgresServer,
  schema: string,
  options: JobServerOptions = {},
  queueOptions: PostgresQueueOptions = {},
): JobServer {
  const queue = postgresQueue({ connectionString: db.connectionString, schema, ...queueOptions });
  const server = createJobServer({ ...options, queue });
  backends.set(server, { queue, schema });
  return server;
}

/** The schema and backend a server of `nodeOn` was made with. */
export function backendOf(server: JobServer): { queue: PostgresQueue; schema: string } {
  const found = backends.get(server);
  if (found === undefined) throw new Error('not a server of nodeOn');
  return found;
}

/** Polls `test` until it holds; fails after `timeout` ms, saying `what`. */
export async function until(
  test: () => boolean | Promise<boolean>,
  what: string,
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A plain client on the test database, closed by the caller. */
export async function client(db: PostgresServer, applicationName = 'geartrain-test') {
  const c = new pg.Client({
    connectionString: db.connectionString,
    application_name: applicationName,
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}
