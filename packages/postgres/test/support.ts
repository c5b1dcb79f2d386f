// What the package's tests share: a PostgreSQL of their own (the repository's harness, by
// relative path), a fresh schema per queue, nodes on it, and bounded waits.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import {
  createJobServer,
  type JobEvent,
  type JobServer,
  type JobServerOptions,
} from '@geartrain/core';
import type { SharedSubmission } from '@geartrain/core/transport';
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
  what: string | (() => string),
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) {
      const said = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeout} ms waiting for ${said}`);
    }
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

/**
 * A TCP proxy in front of the database, for one node: `kill()` closes every connection and
 * refuses new ones (the node's process is gone, as after a kill -9: the server sees its
 * sessions end); `freeze()` keeps the connections open but passes nothing (a SIGSTOP, or a
 * network that drops everything); `holdAnswers()` passes what the node sends but not what
 * the server answers; `thaw()` lets everything through again; `revive()` takes connections
 * again after a kill.
 */
export interface Proxy {
  readonly connectionString: string;
  kill(): void;
  freeze(): void;
  holdAnswers(): void;
  thaw(): void;
  revive(): void;
  close(): Promise<void>;
}

export async function proxyTo(db: PostgresServer): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let killed = false;
  /** Which directions are held: to the server, to the node. */
  const held = { up: false, down: false };
  const paused: Socket[] = [];
  const server = createServer((inbound) => {
    if (killed) {
      inbound.destroy();
      return;
    }
    const outbound = connect(db.port, db.host);
    for (const [from, to, direction] of [
      [inbound, outbound, 'up'],
      [outbound, inbound, 'down'],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (held[direction]) {
          // Held back until thawed, in order.
          from.pause();
          from.unshift(chunk);
          paused.push(from);
          return;
        }
        to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    connectionString: `postgres://${db.user}@127.0.0.1:${port}/${db.database}`,
    kill() {
      killed = true;
      for (const socket of sockets) socket.destroy();
    },
    freeze() {
      held.up = held.down = true;
    },
    holdAnswers() {
      held.down = true;
    },
    thaw() {
      held.up = held.down = false;
      for (const socket of paused.splice(0)) socket.resume();
    },
    revive() {
      killed = false;
      held.up = held.down = false;
    },
    async close() {
      killed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What a backend opened by {@link openBackend} told its node. */
export interface Heard {
  waiting: (readonly string[] | null)[];
  revoked: { handle: string; attempt: number; reason: string }[];
  events: JobEvent[];
}

/** A backend opened as a node would open it, with signals that record what it hears. */
export async function openBackend(
  connectionString: string,
  schema: string,
  options: PostgresQueueOptions = {},
  name = 'test-node',
): Promise<{ queue: PostgresQueue; heard: Heard; id: string }> {
  const queue = postgresQueue({ connectionString, schema, ...options });
  const heard: Heard = { waiting: [], revoked: [], events: [] };
  const id = randomUUID();
  await queue.open(
    { id, name },
    {
      waiting: (names) => heard.waiting.push(names),
      revoked: (handle, attempt, reason) => heard.revoked.push({ handle, attempt, reason }),
      event: (event) => heard.events.push(event),
      settings: () => undefined,
      updates: () => undefined,
      relay: () => undefined,
      abilities: () => [],
    },
  );
  return { queue, heard, id };
}

/** A background submission as a node sends it. */
export function submission(
  functionName: string,
  payload: string,
  more: Partial<SharedSubmission> = {},
): SharedSubmission {
  return {
    functionName,
    payload: Buffer.from(payload),
    unique: '',
    priority: 'normal',
    delay: 0,
    reducer: '',
    retry: null,
    foreground: false,
    ...more,
  };
}
