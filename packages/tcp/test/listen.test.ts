import { createJobServer } from '@geartrain/core';
import { Decoder, encodeRequest, type Packet } from '@geartrain/protocol';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GearmanServer, parseAddress, serve } from '../src/index.js';

const servers: GearmanServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    await s.jobServer.close({ timeout: 0 });
    await s.close();
  }
});

async function echo(host: string, port: number): Promise<Packet[]> {
  const socket = createConnection({ host, port });
  const packets: Packet[] = [];
  const decoder = new Decoder(
    { packet: (p) => packets.push(p), text: () => undefined, error: () => undefined },
    { text: false },
  );
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  await once(socket, 'connect');
  socket.write(encodeRequest({ type: 'ECHO_REQ', data: Buffer.from('hi') }));
  for (let i = 0; i < 100 && packets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
  return packets;
}

describe('listen', () => {
  it('parses addresses: host, host:port, [v6]:port, [v6], bare v6', () => {
    expect(parseAddress('127.0.0.1')).toEqual({ host: '127.0.0.1', port: undefined });
    expect(parseAddress('localhost:4730')).toEqual({ host: 'localhost', port: 4730 });
    expect(parseAddress('[::1]:4730')).toEqual({ host: '::1', port: 4730 });
    expect(parseAddress('[::1]')).toEqual({ host: '::1', port: undefined });
    expect(parseAddress('::1')).toEqual({ host: '::1', port: undefined });
    expect(() => parseAddress('host:port')).toThrow('invalid port');
  });

  it('serves on IPv4 and IPv6 loopback, on a free port', async () => {
    const v4 = await serve(createJobServer(), { host: '127.0.0.1', port: 0 });
    const v6 = await serve(createJobServer(), { host: '[::1]', port: 0 });
    servers.push(v4, v6);
    expect(v6.address?.family).toBe('IPv6');
    expect(await echo('127.0.0.1', v4.address!.port)).toEqual([
      { type: 'ECHO_RES', data: Buffer.from('hi') },
    ]);
    expect(await echo('::1', v6.address!.port)).toEqual([
      { type: 'ECHO_RES', data: Buffer.from('hi') },
    ]);
  });

  it('refuses to listen twice, and reports a port in use', async () => {
    const first = await serve(createJobServer(), { port: 0 });
    servers.push(first);
    await expect(first.listen({ port: 0 })).rejects.toThrow('already listening');
    const second = new GearmanServer(createJobServer());
    await expect(second.listen({ port: first.address!.port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('limits connections and closes idle ones', async () => {
    const server = await serve(createJobServer(), { port: 0, maxConnections: 1, idleTimeout: 150 });
    servers.push(server);
    const port = server.address!.port;
    const first: Socket = createConnection({ port, host: '127.0.0.1' });
    await once(first, 'connect');
    await new Promise((r) => setTimeout(r, 30));
    const second = createConnection({ port, host: '127.0.0.1' });
    const secondClosed = once(second, 'close');
    second.on('error', () => undefined);
    await secondClosed;
    expect(server.connections).toBe(1);
    // The first one says nothing: it is closed after the idle timeout.
    await once(first, 'close');
    expect(server.connections).toBe(0);
  });
});

describe('graceful close', () => {
  it('lets a TCP worker finish the job it holds, assigns no more, then closes', async () => {
    const jobs = createJobServer({ handlePrefix: 'H:t' });
    const server = await serve(jobs, { port: 0 });
    servers.push(server);
    const port = server.address!.port;
    const packets: Packet[] = [];
    const worker = createConnection({ host: '127.0.0.1', port });
    const decoder = new Decoder(
      { packet: (p) => packets.push(p), text: () => undefined, error: () => undefined },
      { text: false },
    );
    worker.on('data', (chunk: Buffer) => decoder.push(chunk));
    await once(worker, 'connect');
    const client = jobs.client();
    const first = await client.submit('f', 'one');
    const second = await client.submit('f', 'two', { background: true });
    worker.write(
      Buffer.concat([
        encodeRequest({ type: 'CAN_DO', functionName: 'f' }),
        encodeRequest({ type: 'GRAB_JOB' }),
      ]),
    );
    for (let i = 0; i < 100 && packets.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(packets[0]).toMatchObject({ type: 'JOB_ASSIGN', handle: first.handle });
    const closed = server.close({ timeout: 5000 });
    worker.write(encodeRequest({ type: 'GRAB_JOB' }));
    await new Promise((r) => setTimeout(r, 50));
    expect(packets[1]).toEqual({ type: 'NO_JOB' });
    worker.write(
      encodeRequest({ type: 'WORK_COMPLETE', handle: first.handle, data: Buffer.from('done') }),
    );
    await closed;
    expect(await first.text()).toBe('done');
    expect(jobs.status(second.handle)).toMatchObject({ known: true, running: false });
    expect(server.connections).toBe(0);
    worker.destroy();
  });
});
