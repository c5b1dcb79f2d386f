// ServerConnection against a scripted server on loopback that speaks real Gearman bytes.
import { Decoder, encodeResponse, type Packet } from '@geartrain/protocol';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { VirtualTimeScheduler, asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerLostError } from '../src/index.js';
import { parseServers } from '../src/index.js';
import { ServerConnection } from '../src/transport.js';

/** A server that hands each request to `respond` and writes what it returns. */
async function scripted(respond: (packet: Packet, socket: Socket) => Packet[]) {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    const decoder = new Decoder({
      packet: (packet) => {
        for (const reply of respond(packet, socket)) socket.write(encodeResponse(reply));
      },
      text: () => undefined,
      error: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    address: parseServers(`127.0.0.1:${port}`)[0]!,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

function connect(
  address: ReturnType<typeof parseServers>[number],
  log: string[],
  options: { healthCheckInterval?: number; requestTimeout?: number } = {},
) {
  const connection = new ServerConnection(
    address,
    {
      up: () => log.push('up'),
      down: (_c, error) => log.push(`down ${(error as ServerLostError).code}`),
      packet: (_c, p) => log.push(`packet ${p.type}`),
    },
    asyncScheduler,
    { reconnectDelay: 10, maxReconnectDelay: 20, ...options },
  );
  cleanup.push(() => connection.close());
  connection.open();
  return connection;
}

function ask(connection: ServerConnection, handle: string) {
  return new Promise<string>((resolve) =>
    connection.request({ type: 'GET_STATUS', handle }, 'STATUS_RES', (error, reply) =>
      resolve(error ? `error ${(error as ServerLostError).code}` : reply!.type),
    ),
  );
}

describe('ServerConnection', () => {
  it('pairs pipelined replies with requests in order; an ERROR answers the oldest request', async () => {
    const server = await scripted((packet) => {
      if (packet.type !== 'GET_STATUS') return [];
      const status: Packet = {
        type: 'STATUS_RES',
        handle: packet.handle,
        known: '0',
        running: '0',
        numerator: '0',
        denominator: '0',
      };
      if (packet.handle === 'bad') return [{ type: 'ERROR', errorCode: 'X', errorText: 'no' }];
      // A JOB_NOT_FOUND (for a WORK_* report) answers no request and is skipped.
      if (packet.handle === 'b') {
        return [{ type: 'ERROR', errorCode: 'JOB_NOT_FOUND', errorText: 'gone' }, status];
      }
      return [status, { type: 'NOOP' }];
    });
    cleanup.push(server.close);
    const log: string[] = [];
    const connection = connect(server.address, log);
    await connection.whenUp();
    const replies = await Promise.all(['a', 'bad', 'b'].map((h) => ask(connection, h)));
    expect(replies).toEqual(['STATUS_RES', 'ERROR', 'STATUS_RES']);
    expect(log).toEqual(['up', 'packet NOOP']);
  });

  it('fails pending requests with SERVER_LOST when the server goes, then reconnects', async () => {
    const server = await scripted((packet, socket) => {
      if (packet.type === 'GET_STATUS' && packet.handle === 'die') socket.destroy();
      return [];
    });
    cleanup.push(server.close);
    const log: string[] = [];
    const connection = connect(server.address, log);
    await connection.whenUp();
    expect(connection.generation).toBe(1);
    expect(await ask(connection, 'die')).toBe('error SERVER_LOST');
    await connection.whenUp();
    expect(connection.generation).toBe(2);
    expect(log).toEqual(['up', 'down SERVER_LOST', 'up']);
    // Requests on a connection that is not up fail at once rather than wait.
    connection.close();
    expect(await ask(connection, 'x')).toBe('error SERVER_LOST');
  });

  it('checks a quiet connection with ECHO_REQ and drops a server that stops answering', async () => {
    // On a virtual clock: each step of time is taken by hand, and replies are waited for.
    let answering = true;
    let checks = 0;
    let onCheck: (() => void) | undefined;
    const server = await scripted((packet) => {
      if (packet.type !== 'ECHO_REQ') return [];
      if (packet.data.toString() !== 'barrier') {
        checks++;
        onCheck?.();
      }
      return answering ? [{ type: 'ECHO_RES', data: packet.data }] : [];
    });
    cleanup.push(server.close);
    const clock = new VirtualTimeScheduler();
    const advance = (ms: number) => {
      const t = clock.now() + ms;
      clock.maxFrames = t;
      clock.flush();
      clock.frame = t;
    };
    const log: string[] = [];
    let down!: () => void;
    const isDown = new Promise<void>((resolve) => (down = resolve));
    const connection = new ServerConnection(
      server.address,
      {
        up: () => log.push('up'),
        down: (_c, error) => {
          log.push(`down ${(error as ServerLostError).code}`);
          down();
        },
        packet: (_c, p) => log.push(`packet ${p.type}`),
      },
      clock,
      { healthCheckInterval: 20, requestTimeout: 100, reconnectDelay: 10_000 },
    );
    cleanup.push(() => connection.close());
    connection.open();
    await connection.whenUp();
    // Replies come in request order: once our own echo is back, the check's was read.
    const barrier = () =>
      new Promise<void>((resolve) =>
        connection.request({ type: 'ECHO_REQ', data: Buffer.from('barrier') }, 'ECHO_RES', () =>
          resolve(),
        ),
      );
    for (let i = 1; i <= 3; i++) {
      advance(20); // quiet for the interval: the connection checks
      await barrier();
      expect(checks).toBe(i);
    }
    expect(log).toEqual(['up']);
    answering = false;
    const checked = new Promise<void>((resolve) => (onCheck = resolve));
    advance(20); // another check, which is not answered…
    await checked;
    expect(checks).toBe(4);
    advance(100); // …and past the request timeout the server is dropped
    await isDown;
    expect(log).toEqual(['up', 'down SERVER_LOST']);
  });
});
