import { Decoder, encodeRequest, type Packet } from '@geartrain/protocol';
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithTools,
  startGearmand,
  startGeartrain,
  type TestServer,
} from './support/interop.js';

/**
 * Raw-socket scenarios run against the reference gearmand and geartrain side by side. Where
 * the answers differ, the test states both and the gearmand quirk geartrain fixes
 * (reference §8); everywhere else they must be equal.
 */
class Peer {
  readonly packets: Packet[] = [];
  raw = '';
  closed = false;
  private readonly socket: Socket;
  private readonly decoder = new Decoder(
    { packet: (p) => this.packets.push(p), text: () => undefined, error: () => undefined },
    { text: false },
  );

  constructor(port: number) {
    this.socket = createConnection({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => {
      if (chunk[0] === 0) this.decoder.push(chunk);
      else this.raw += chunk.toString('latin1');
    });
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => (this.closed = true));
  }

  send(...packets: Packet[]): this {
    for (const p of packets) this.socket.write(encodeRequest(p));
    return this;
  }

  line(text: string): this {
    this.socket.write(text);
    return this;
  }

  async wait(done: () => boolean, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Waits a moment and returns everything received. */
  async settle(ms = 200): Promise<Packet[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.packets;
  }

  close(): void {
    this.socket.destroy();
  }
}

const b = (text: string) => Buffer.from(text, 'latin1');
const norm = (text: string) => text.replace(/H:[^\s:]+:(\d+)/g, 'H:$1');

describeWithTools(['gearmand'], 'differential: gearmand and geartrain side by side', () => {
  let gearmand: TestServer;
  let geartrain: TestServer;
  const peers: Peer[] = [];
  beforeAll(async () => {
    gearmand = await startGearmand();
    geartrain = await startGeartrain();
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await gearmand.stop();
    await geartrain.stop();
  });
  const peer = (server: TestServer) => {
    const p = new Peer(server.port);
    peers.push(p);
    return p;
  };
  const both = async <T>(scenario: (server: TestServer, tag: string) => Promise<T>) => ({
    gearmand: await scenario(gearmand, 'a'),
    geartrain: await scenario(geartrain, 'b'),
  });

  it('agrees on ECHO, OPTION_REQ, GET_STATUS of unknown jobs and rejected packets', async () => {
    const result = await both(async (server) => {
      const p = peer(server);
      p.send(
        { type: 'ECHO_REQ', data: b('ping\0pong') },
        { type: 'OPTION_REQ', option: 'exceptions' },
        { type: 'OPTION_REQ', option: 'bogus' },
        { type: 'GET_STATUS', handle: 'H:nope:1' },
        { type: 'GET_STATUS_UNIQUE', unique: 'nope' },
        { type: 'ALL_YOURS' },
      );
      await p.wait(() => p.packets.length >= 6);
      return p.packets;
    });
    expect(result.geartrain).toEqual(result.gearmand);
  });

  it('WORK_FAIL for a client without exceptions: gearmand appends a stray NUL (fixed)', async () => {
    const result = await both(async (server, tag) => {
      const client = peer(server);
      client.send({ type: 'SUBMIT_JOB', functionName: `exc-${tag}`, unique: '', data: b('') });
      await client.wait(() => client.packets.length >= 1);
      const worker = peer(server);
      worker.send({ type: 'CAN_DO', functionName: `exc-${tag}` }, { type: 'GRAB_JOB' });
      await worker.wait(() => worker.packets.length >= 1);
      const handle = (worker.packets[0] as { handle: string }).handle;
      worker.send({ type: 'WORK_EXCEPTION', handle, data: b('boom') });
      await client.wait(() => client.packets.length >= 2);
      return { handle, fail: client.packets[1] };
    });
    expect(result.gearmand.fail).toEqual({
      type: 'WORK_FAIL',
      handle: `${result.gearmand.handle}\0`,
    });
    expect(result.geartrain.fail).toEqual({ type: 'WORK_FAIL', handle: result.geartrain.handle });
  });

  it('cancel job: gearmand keeps the job "known" until a worker reaps it (fixed)', async () => {
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.send({ type: 'SUBMIT_JOB_BG', functionName: `cancel-${tag}`, unique: 'u', data: b('') });
      await p.wait(() => p.packets.length >= 1);
      const handle = (p.packets[0] as { handle: string }).handle;
      p.line(`cancel job ${handle}\r\n`);
      await p.wait(() => p.raw.includes('\r\n'));
      p.send({ type: 'GET_STATUS', handle });
      await p.wait(() => p.packets.length >= 2);
      return { reply: p.raw, status: p.packets[1] as { known: string } };
    });
    expect([result.gearmand.reply, result.geartrain.reply]).toEqual(['OK\r\n', 'OK\r\n']);
    expect(result.gearmand.status.known).toBe('1');
    expect(result.geartrain.status.known).toBe('0');
  });

  it('drop function with queued jobs: gearmand drops it and leaves the jobs dangling (fixed)', async () => {
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.send({ type: 'SUBMIT_JOB_BG', functionName: `drop-${tag}`, unique: '', data: b('') });
      await p.wait(() => p.packets.length >= 1);
      p.line(`drop function drop-${tag}\r\n`);
      await p.wait(() => p.raw.includes('\r\n'));
      return p.raw;
    });
    expect(result.gearmand).toBe('OK\r\n');
    expect(result.geartrain).toBe(
      'ERR there are still 1 queued job (cancel them first, or let workers run them)\r\n',
    );
  });

  it('an admin line of six words: gearmand closes without a reply, geartrain answers ERR and goes on', async () => {
    const result = await both(async (server) => {
      const p = peer(server);
      // A cron expression's spaces, not URL-encoded: the easy way to send six words.
      p.line('schedule add nightly report cron=0 0 3 * * *\r\n');
      await p.wait(() => p.closed || p.raw.includes('\r\n'));
      p.line('getpid\r\n');
      await p.wait(() => p.closed || p.raw.includes('OK '), 500);
      return { closed: p.closed, raw: p.raw };
    });
    expect(result.gearmand).toEqual({ closed: true, raw: '' });
    expect(result.geartrain.closed).toBe(false);
    expect(result.geartrain.raw).toMatch(
      /^ERR TOO_MANY_ARGUMENTS an\+admin\+line\+takes\+at\+most\+5\+words:\+URL-encode\+the\+spaces\+inside\+a\+value\r\nOK \d+\n$/,
    );
  });

  it('create function with a bare \\n: gearmand loses the last character (fixed)', async () => {
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.line(`create function made${tag}\nstatus\n`);
      await p.wait(() => p.raw.endsWith('.\n'));
      return p.raw.split('\n').find((line) => line.startsWith('made'));
    });
    expect(result.gearmand).toBe('made\t0\t0\t0');
    expect(result.geartrain).toBe('madeb\t0\t0\t0');
  });

  it('a 64-byte unique id: gearmand truncates it and never coalesces (fixed)', async () => {
    const unique = 'u'.repeat(64);
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.send(
        { type: 'SUBMIT_JOB_BG', functionName: `long-${tag}`, unique, data: b('') },
        { type: 'SUBMIT_JOB_BG', functionName: `long-${tag}`, unique, data: b('') },
      );
      await p.wait(() => p.packets.length >= 2);
      return p.packets.map((x) => norm((x as { handle: string }).handle));
    });
    expect(result.gearmand[0]).not.toBe(result.gearmand[1]);
    expect(result.geartrain[0]).toBe(result.geartrain[1]);
  });

  it('a repeated CAN_DO: gearmand counts two workers (fixed: one registration)', async () => {
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.send(
        { type: 'CAN_DO', functionName: `dup-${tag}` },
        { type: 'CAN_DO', functionName: `dup-${tag}` },
      );
      p.line('status\n');
      await p.wait(() => p.raw.endsWith('.\n'));
      return p.raw.split('\n').find((line) => line.startsWith('dup'));
    });
    expect(result.gearmand).toBe('dup-a\t0\t0\t2');
    expect(result.geartrain).toBe('dup-b\t0\t0\t1');
  });

  it('an unknown packet type: gearmand closes the connection, geartrain answers and goes on', async () => {
    const result = await both(async (server) => {
      const p = peer(server);
      p.line('\0REQ\0\0\0\x2b\0\0\0\0');
      p.send({ type: 'ECHO_REQ', data: b('after') });
      await p.settle(300);
      return { closed: p.closed, packets: p.packets };
    });
    expect(result.gearmand).toEqual({ closed: true, packets: [] });
    expect(result.geartrain).toEqual({
      closed: false,
      packets: [
        { type: 'ERROR', errorCode: 'INVALID_COMMAND', errorText: 'Command not expected' },
        { type: 'ECHO_RES', data: b('after') },
      ],
    });
  });

  it('priority across a worker’s functions: gearmand per function, geartrain global (reference §3.3)', async () => {
    const result = await both(async (server, tag) => {
      const p = peer(server);
      p.send(
        { type: 'SUBMIT_JOB_BG', functionName: `pa-${tag}`, unique: '', data: b('a-normal') },
        { type: 'SUBMIT_JOB_BG', functionName: `pb-${tag}`, unique: '', data: b('b-normal') },
        { type: 'SUBMIT_JOB_HIGH_BG', functionName: `pa-${tag}`, unique: '', data: b('a-high') },
      );
      await p.wait(() => p.packets.length >= 3);
      const w = peer(server);
      w.send(
        { type: 'CAN_DO', functionName: `pa-${tag}` },
        { type: 'CAN_DO', functionName: `pb-${tag}` },
      );
      w.send({ type: 'GRAB_JOB' }, { type: 'GRAB_JOB' }, { type: 'GRAB_JOB' });
      await w.wait(() => w.packets.length >= 3);
      return w.packets.map((x) => (x as { data: Buffer }).data.toString());
    });
    // gearmand walks the newest registration first: pb's NORMAL job before pa's HIGH one.
    expect(result.gearmand).toEqual(['b-normal', 'a-high', 'a-normal']);
    // geartrain: every HIGH job first, then functions take turns (pa was just served).
    expect(result.geartrain).toEqual(['a-high', 'b-normal', 'a-normal']);
  });
});
