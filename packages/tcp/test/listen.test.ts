import { createJobServer, InvalidArgumentError } from '@geartrain/core';
import { VirtualTimeScheduler } from 'rxjs';
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

/** A socket's decoded packets; `packet(n)` resolves once the n-th has arrived (at most 5 s). */
function packetsOf(socket: Socket) {
  const packets: Packet[] = [];
  const waiters: (() => void)[] = [];
  const decoder = new Decoder(
    {
      packet: (p) => {
        packets.push(p);
        for (const wake of waiters.splice(0)) wake();
      },
      text: () => undefined,
      error: () => undefined,
    },
    { text: false },
  );
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  const packet = async (n: number): Promise<Packet> => {
    const deadline = setTimeout(() => waiters.splice(0).forEach((wake) => wake()), 5000);
    while (packets.length < n) {
      const before = packets.length;
      await new Promise<void>((resolve) => waiters.push(resolve));
      if (packets.length === before) break; // the deadline passed
    }
    clearTimeout(deadline);
    if (packets.length < n) throw new Error(`packet #${n} did not arrive`);
    return packets[n - 1]!;
  };
  return { packets, packet };
}

async function echo(host: string, port: number): Promise<Packet[]> {
  const socket = createConnection({ host, port });
  const { packets, packet } = packetsOf(socket);
  await once(socket, 'connect');
  socket.write(encodeRequest({ type: 'ECHO_REQ', data: Buffer.from('hi') }));
  await packet(1);
  socket.destroy();
  return packets;
}

describe('listen', () => {
  it('refuses what is not a job server, and options that are not an object', async () => {
    const jobs = createJobServer({ store: null });
    expect(() => new GearmanServer(42 as never)).toThrow(InvalidArgumentError);
    expect(() => new GearmanServer(jobs, null as never)).toThrow(/options must be an object/);
    await expect(serve(jobs, null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await jobs.close({ timeout: 0 });
  });

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

  it("limits connections and closes idle ones (on the job server's virtual clock)", async () => {
    const clock = new VirtualTimeScheduler();
    const advanceTo = (t: number) => {
      clock.maxFrames = t;
      clock.flush();
      clock.frame = t;
    };
    const server = await serve(createJobServer({ scheduler: clock }), {
      port: 0,
      maxConnections: 1,
      idleTimeout: 150,
    });
    servers.push(server);
    const port = server.address!.port;
    const first: Socket = createConnection({ port, host: '127.0.0.1' });
    const { packet } = packetsOf(first);
    await once(first, 'connect');
    // Once it has echoed, the server holds the first connection (and its idle clock runs).
    first.write(encodeRequest({ type: 'ECHO_REQ', data: Buffer.from('x') }));
    await packet(1);
    const second = createConnection({ port, host: '127.0.0.1' });
    const secondClosed = once(second, 'close');
    second.on('error', () => undefined);
    await secondClosed;
    expect(server.connections).toBe(1);
    // The first one says nothing more: it is closed after the idle timeout, not before.
    const firstClosed = once(first, 'close');
    advanceTo(149);
    expect(server.connections).toBe(1);
    advanceTo(150);
    await firstClosed;
    expect(server.connections).toBe(0);
  });
});

describe('graceful close', () => {
  it('lets a TCP worker finish the job it holds, assigns no more, then closes', async () => {
    const jobs = createJobServer({ handlePrefix: 'H:t' });
    const server = await serve(jobs, { port: 0 });
    servers.push(server);
    const port = server.address!.port;
    const worker = createConnection({ host: '127.0.0.1', port });
    const { packet } = packetsOf(worker);
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
    expect(await packet(1)).toMatchObject({ type: 'JOB_ASSIGN', handle: first.handle });
    const closed = server.close({ timeout: 5000 });
    worker.write(encodeRequest({ type: 'GRAB_JOB' }));
    expect(await packet(2)).toEqual({ type: 'NO_JOB' });
    worker.write(
      encodeRequest({ type: 'WORK_COMPLETE', handle: first.handle, data: Buffer.from('done') }),
    );
    await closed;
    expect(await first.text()).toBe('done');
    expect(await jobs.status(second.handle)).toMatchObject({ known: true, running: false });
    expect(server.connections).toBe(0);
    worker.destroy();
  });

  it("stops waiting at its deadline, on the job server's clock, and the job goes back", async () => {
    const clock = new VirtualTimeScheduler();
    const jobs = createJobServer({ handlePrefix: 'H:t', scheduler: clock });
    const server = await serve(jobs, { port: 0 });
    servers.push(server);
    const worker = createConnection({ host: '127.0.0.1', port: server.address!.port });
    const { packet } = packetsOf(worker);
    await once(worker, 'connect');
    const job = await jobs.client().submit('f', 'forever', { background: true });
    worker.write(
      Buffer.concat([
        encodeRequest({ type: 'CAN_DO', functionName: 'f' }),
        encodeRequest({ type: 'GRAB_JOB' }),
      ]),
    );
    expect(await packet(1)).toMatchObject({ type: 'JOB_ASSIGN', handle: job.handle });
    let done = false;
    const closed = server.close({ timeout: 1000 }).then(() => (done = true));
    clock.maxFrames = 999;
    clock.flush();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(done).toBe(false); // the worker still holds the job
    clock.maxFrames = 1000;
    clock.flush();
    await closed;
    await once(worker, 'close');
    expect(await jobs.status(job.handle)).toMatchObject({ known: true, running: false });
  });
});
