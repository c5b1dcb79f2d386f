import { TestScheduler } from 'rxjs/testing';
import { createJobServer } from '@geartrain/core';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '@geartrain/protocol';
import { GearmanServer } from '../src/index.js';
import { advancer, b, gatedStore, hex, setup, statusLater } from './helpers.js';
import { Wire } from './wire.js';

describe('jobs over the wire (reference §2, §3)', () => {
  it('runs a foreground job: JOB_CREATED, NOOP, assignment, forwarded updates', async () => {
    const server = setup();
    const client = new Wire(server);
    const worker = new Wire(server);
    worker.send({ type: 'CAN_DO', functionName: 'rev' }, { type: 'PRE_SLEEP' });
    await Wire.settle();
    client.send({ type: 'SUBMIT_JOB', functionName: 'rev', unique: 'u1', data: b('hello') });
    expect(await client.packetsAfter(1)).toEqual([{ type: 'JOB_CREATED', handle: 'H:t:1' }]);
    expect(await worker.packetsAfter(1)).toEqual([{ type: 'NOOP' }]);
    worker.send({ type: 'GRAB_JOB_UNIQ' });
    expect((await worker.packetsAfter(2))[1]).toEqual({
      type: 'JOB_ASSIGN_UNIQ',
      handle: 'H:t:1',
      functionName: 'rev',
      unique: 'u1',
      data: b('hello'),
    });
    worker.send(
      { type: 'WORK_STATUS', handle: 'H:t:1', numerator: '1', denominator: '2' },
      { type: 'WORK_DATA', handle: 'H:t:1', data: b('ol') },
      { type: 'WORK_WARNING', handle: 'H:t:1', data: b('hmm') },
      { type: 'WORK_COMPLETE', handle: 'H:t:1', data: b('olleh') },
    );
    expect((await client.packetsAfter(5)).slice(1)).toEqual([
      { type: 'WORK_STATUS', handle: 'H:t:1', numerator: '1', denominator: '2' },
      { type: 'WORK_DATA', handle: 'H:t:1', data: b('ol') },
      { type: 'WORK_WARNING', handle: 'H:t:1', data: b('hmm') },
      { type: 'WORK_COMPLETE', handle: 'H:t:1', data: b('olleh') },
    ]);
  });

  it('answers each grab flavour as gearmand: JOB_ASSIGN, JOB_ASSIGN_UNIQ, JOB_ASSIGN_ALL, NO_JOB', async () => {
    const server = setup();
    const client = new Wire(server);
    client.send(
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'a', data: b('1') },
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'b', data: b('2') },
      {
        type: 'SUBMIT_REDUCE_JOB_BACKGROUND',
        functionName: 'f',
        unique: 'c',
        reducer: 'sum',
        aggregator: '',
        data: b('3'),
      },
    );
    await client.packetsAfter(3);
    const worker = new Wire(server);
    worker.send(
      { type: 'CAN_DO', functionName: 'f' },
      { type: 'GRAB_JOB' },
      { type: 'GRAB_JOB_ALL' },
      { type: 'GRAB_JOB_ALL' },
      { type: 'GRAB_JOB' },
    );
    expect(await worker.packetsAfter(4)).toEqual([
      { type: 'JOB_ASSIGN', handle: 'H:t:1', functionName: 'f', data: b('1') },
      { type: 'JOB_ASSIGN_UNIQ', handle: 'H:t:2', functionName: 'f', unique: 'b', data: b('2') },
      {
        type: 'JOB_ASSIGN_ALL',
        handle: 'H:t:3',
        functionName: 'f',
        unique: 'c',
        reducer: 'sum',
        data: b('3'),
      },
      { type: 'NO_JOB' },
    ]);
  });

  it('sends exceptions to clients that asked, and a clean WORK_FAIL (no stray NUL) to others', async () => {
    const server = setup();
    const plain = new Wire(server);
    const asking = new Wire(server);
    asking.send({ type: 'OPTION_REQ', option: 'EXCEPTIONS' });
    expect(await asking.packetsAfter(1)).toEqual([{ type: 'OPTION_RES', option: 'EXCEPTIONS' }]);
    plain.send({ type: 'SUBMIT_JOB', functionName: 'f', unique: 'x', data: b('') });
    asking.send({ type: 'SUBMIT_JOB', functionName: 'f', unique: 'x', data: b('') });
    await plain.packetsAfter(1);
    await asking.packetsAfter(2);
    const worker = new Wire(server);
    worker.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    await worker.packetsAfter(1);
    worker.send({ type: 'WORK_EXCEPTION', handle: 'H:t:1', data: b('boom') });
    await plain.packetsAfter(2);
    await asking.packetsAfter(3);
    expect(plain.packets[1]).toEqual({ type: 'WORK_FAIL', handle: 'H:t:1' });
    // Byte for byte: size 5, the handle and nothing after it.
    expect(plain.raw.subarray(-17)).toEqual(
      Buffer.concat([hex('00524553 0000000e 00000005'), b('H:t:1')]),
    );
    expect(asking.packets[2]).toEqual({ type: 'WORK_EXCEPTION', handle: 'H:t:1', data: b('boom') });
  });

  it('coalesces by unique id and delivers to every attached submission', async () => {
    const server = setup();
    const c1 = new Wire(server);
    const c2 = new Wire(server);
    c1.send({ type: 'SUBMIT_JOB', functionName: 'f', unique: 'same', data: b('') });
    c2.send({ type: 'SUBMIT_JOB_LOW', functionName: 'f', unique: 'same', data: b('') });
    c2.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'same', data: b('') });
    expect((await c2.packetsAfter(2)).map((p) => p.type === 'JOB_CREATED' && p.handle)).toEqual([
      'H:t:1',
      'H:t:1',
    ]);
    c2.send({ type: 'GET_STATUS_UNIQUE', unique: 'same' });
    expect((await c2.packetsAfter(3))[2]).toEqual({
      type: 'STATUS_RES_UNIQUE',
      unique: 'same',
      known: '1',
      running: '0',
      numerator: '0',
      denominator: '0',
      clientCount: '2',
    });
    const worker = new Wire(server);
    worker.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    await worker.packetsAfter(1);
    worker.send({ type: 'WORK_COMPLETE', handle: 'H:t:1', data: b('r') });
    expect((await c1.packetsAfter(2))[1]).toEqual({
      type: 'WORK_COMPLETE',
      handle: 'H:t:1',
      data: b('r'),
    });
    expect((await c2.packetsAfter(4))[3]).toEqual({
      type: 'WORK_COMPLETE',
      handle: 'H:t:1',
      data: b('r'),
    });
  });

  it('reports status by handle: unknown, queued, running with progress', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: b('') });
    c.send({ type: 'GET_STATUS', handle: 'H:t:1' }, { type: 'GET_STATUS', handle: 'H:t:9' });
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    await w.packetsAfter(1);
    w.send({ type: 'WORK_STATUS', handle: 'H:t:1', numerator: '-5', denominator: 'x' });
    await Wire.settle();
    c.send({ type: 'GET_STATUS', handle: 'H:t:1' });
    const replies = await c.packetsAfter(4);
    expect(replies.slice(1)).toEqual([
      {
        type: 'STATUS_RES',
        handle: 'H:t:1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
      },
      {
        type: 'STATUS_RES',
        handle: 'H:t:9',
        known: '0',
        running: '0',
        numerator: '0',
        denominator: '0',
      },
      // gearmand reads the numbers with atoi into a uint32: -5 wraps, garbage is 0.
      {
        type: 'STATUS_RES',
        handle: 'H:t:1',
        known: '1',
        running: '1',
        numerator: '4294967291',
        denominator: '0',
      },
    ]);
  });

  it('runs a SUBMIT_JOB_EPOCH job at its time, and a past one at once', async () => {
    const server = setup();
    const c = new Wire(server);
    const future = Math.floor(Date.now() / 1000) + 3600;
    c.send(
      {
        type: 'SUBMIT_JOB_EPOCH',
        functionName: 'f',
        unique: '',
        epoch: String(future),
        data: b('later'),
      },
      { type: 'SUBMIT_JOB_EPOCH', functionName: 'f', unique: '', epoch: 'abc', data: b('now') },
    );
    await c.packetsAfter(2);
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' }, { type: 'GRAB_JOB' });
    expect(await w.packetsAfter(2)).toEqual([
      { type: 'JOB_ASSIGN', handle: 'H:t:2', functionName: 'f', data: b('now') },
      { type: 'NO_JOB' },
    ]);
    expect((await server.jobServer.jobs()).find((j) => j.handle === 'H:t:1')).toMatchObject({
      state: 'delayed',
      runAt: future * 1000,
    });
  });
});

describe('errors on the wire (reference §3.13)', () => {
  it('answers gearmand’s ERROR packets and keeps the connection', async () => {
    const server = setup({}, { maxQueue: 1 });
    const c = new Wire(server);
    c.sendRaw(hex('00524553 00000010 00000000')); // ECHO_REQ with response magic
    c.send(
      { type: 'NOOP' },
      {
        type: 'SUBMIT_JOB_SCHED',
        functionName: 'f',
        unique: '',
        minute: '',
        hour: '',
        dayOfMonth: '',
        month: '',
        dayOfWeek: '',
        data: b(''),
      },
      { type: 'ALL_YOURS' },
      { type: 'OPTION_REQ', option: 'foo' },
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'x'.repeat(65), data: b('') },
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: b('') },
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: b('') },
      { type: 'WORK_COMPLETE', handle: 'H:t:1', data: b('') },
      { type: 'WORK_DATA', handle: 'H:t:1', data: b('') },
      { type: 'WORK_EXCEPTION', handle: 'H:t:1', data: b('') },
      { type: 'ECHO_REQ', data: b('still here') },
    );
    const replies = await c.packetsAfter(12);
    const errors = replies.map((p) =>
      p.type === 'ERROR' ? `${p.errorCode}: ${p.errorText}` : p.type,
    );
    expect(errors).toEqual([
      'INVALID_MAGIC: Request magic expected',
      'INVALID_COMMAND: Command not expected',
      'INVALID_COMMAND: Command not expected',
      'INVALID_COMMAND: Command not expected',
      'UNKNOWN_OPTION: Server does not recognize given option',
      'ARGUMENT_TOO_LARGE: Unique value too large',
      'JOB_CREATED',
      'QUEUE_ERROR: Job queue is full',
      'JOB_NOT_FOUND: Job given in work result not found',
      'JOB_NOT_FOUND: Job does not exist on server',
      'JOB_NOT_FOUND: An exception was received for a job that does not exist',
      'ECHO_RES',
    ]);
  });

  it('skips an unknown packet type and a malformed packet, then goes on', async () => {
    const server = setup();
    const c = new Wire(server);
    c.sendRaw(hex('00524551 0000002b 00000003 616263'));
    c.sendRaw(hex('00524551 00000007 00000004 66756e63'));
    c.send({ type: 'ECHO_REQ', data: b('ok') });
    const replies = await c.packetsAfter(3);
    expect(replies.map((p) => (p.type === 'ERROR' ? p.errorCode : p.type))).toEqual([
      'INVALID_COMMAND',
      'INVALID_PACKET',
      'ECHO_RES',
    ]);
  });

  it('closes a connection that cannot be resynchronised, and only that one', async () => {
    const server = setup({ maxPacketSize: 1024 });
    const bad = new Wire(server);
    const good = new Wire(server);
    bad.sendRaw(hex('00524551 00000010 00100000'));
    await bad.until(() => bad.closed);
    expect(bad.packets).toEqual([
      {
        type: 'ERROR',
        errorCode: 'ARGUMENT_TOO_LARGE',
        errorText: 'packet payload of 1048576 bytes exceeds the limit of 1024',
      },
    ]);
    const junk = new Wire(server);
    junk.sendRaw(hex('00ffffff 00000010 00000000'));
    await junk.until(() => junk.closed);
    good.send({ type: 'ECHO_REQ', data: b('fine') });
    expect(await good.packetsAfter(1)).toEqual([{ type: 'ECHO_RES', data: b('fine') }]);
    expect(server.connections).toBe(1);
  });
});

describe('connection behaviour', () => {
  it('shares one budget for large payloads among connections, and a closed one gives its part back', async () => {
    const server = setup({ largeBodyBudget: 1 << 20 });
    const data = Buffer.alloc(600 * 1024, 7);
    const packet = encodeRequest({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data });
    // Sends the header and a little of the body, then stalls: its missing bytes are reserved.
    const stalled = new Wire(server);
    stalled.sendRaw(packet.subarray(0, 1000));
    await Wire.settle();
    expect(server.fillBudget.left).toBe((1 << 20) - (packet.length - 1000));
    // The second does not fit in what is left: its payload is joined when whole, and is whole.
    const other = new Wire(server);
    other.sendRaw(packet.subarray(0, 300_000));
    await Wire.settle();
    other.sendRaw(packet.subarray(300_000));
    await other.packetsAfter(1);
    expect(other.packets[0]?.type).toBe('JOB_CREATED');
    const worker = new Wire(server);
    worker.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    const [assigned] = await worker.packetsAfter(1);
    expect(assigned?.type === 'JOB_ASSIGN' && assigned.data.equals(data)).toBe(true);
    // It hangs up mid-payload: the server closes its side and the reservation goes.
    stalled.end.end();
    await stalled.until(() => stalled.closed);
    await Wire.settle();
    expect(server.connections).toBe(2);
    expect(server.fillBudget.left).toBe(1 << 20);
    expect(() => setup({ largeBodyBudget: -1 })).toThrow(RangeError);
  });

  it('keeps JOB_CREATED in submission order while an asynchronous store writes', async () => {
    const slow = gatedStore();
    slow.close();
    const server = setup({}, { store: slow.store });
    const c = new Wire(server);
    c.send(
      { type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'slow', data: b('') },
      { type: 'SUBMIT_JOB', functionName: 'f', unique: 'fast', data: b('') },
      { type: 'ECHO_REQ', data: b('after') },
    );
    await Wire.settle();
    expect(c.packets).toEqual([]);
    slow.open();
    expect(await c.packetsAfter(3)).toEqual([
      { type: 'JOB_CREATED', handle: 'H:t:1' },
      { type: 'JOB_CREATED', handle: 'H:t:2' },
      { type: 'ECHO_RES', data: b('after') },
    ]);
  });

  it('keeps STATUS_RES and STATUS_RES_UNIQUE in request order when the queue answers later', async () => {
    const server = setup();
    const late = statusLater(server.jobServer);
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'u1', data: b('') });
    await c.packetsAfter(1);
    c.send(
      { type: 'GET_STATUS', handle: 'H:t:1' },
      { type: 'ECHO_REQ', data: b('between') },
      { type: 'GET_STATUS_UNIQUE', unique: 'u1' },
      { type: 'ECHO_REQ', data: b('after') },
    );
    await Wire.settle();
    // Nothing overtakes the answer that waits.
    expect(c.packets).toHaveLength(1);
    late.release();
    expect((await c.packetsAfter(5)).slice(1)).toEqual([
      {
        type: 'STATUS_RES',
        handle: 'H:t:1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
      },
      { type: 'ECHO_RES', data: b('between') },
      {
        type: 'STATUS_RES_UNIQUE',
        unique: 'u1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
        clientCount: '0',
      },
      { type: 'ECHO_RES', data: b('after') },
    ]);
  });

  it('answers a status look-up that fails with an ERROR in its place', async () => {
    const server = setup();
    const late = statusLater(server.jobServer, new Error('backend unreachable'));
    const c = new Wire(server);
    c.send({ type: 'GET_STATUS', handle: 'H:t:1' }, { type: 'ECHO_REQ', data: b('after') });
    await Wire.settle();
    expect(c.packets).toEqual([]);
    late.release();
    const [error, echo] = await c.packetsAfter(2);
    expect(error).toMatchObject({ type: 'ERROR' });
    expect(echo).toEqual({ type: 'ECHO_RES', data: b('after') });
    expect(c.closed).toBe(false);
  });

  it('writes a turn’s replies together: 200 pipelined requests, few writes', async () => {
    const server = setup();
    const c = new Wire(server);
    let writes = 0;
    const write = c.serverEnd.write.bind(c.serverEnd);
    c.serverEnd.write = ((...args: Parameters<typeof write>) => {
      writes++;
      return write(...args);
    }) as typeof write;
    c.send(
      ...Array.from({ length: 200 }, (_, i) => ({ type: 'ECHO_REQ' as const, data: b(`#${i}`) })),
    );
    await c.packetsAfter(200);
    expect(writes).toBeLessThanOrEqual(2);
  });

  it('stops reading from a peer that does not read its replies, and resumes when it does', async () => {
    const server = setup();
    const c = new Wire(server);
    c.end.pause();
    c.end.removeAllListeners('data');
    const big = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 20; i++) c.send({ type: 'ECHO_REQ', data: big });
    await Wire.settle();
    expect(c.serverEnd.isPaused()).toBe(true);
    let received = 0;
    const all = 20 * (12 + big.length);
    const drained = new Promise<void>((resolve) =>
      c.end.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= all) resolve();
      }),
    );
    c.end.resume();
    await drained;
    expect(received).toBe(all);
  });

  it('requeues the jobs of a worker whose connection drops', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB', functionName: 'f', unique: '', data: b('x') });
    await c.packetsAfter(1);
    const w1 = new Wire(server);
    w1.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    await w1.packetsAfter(1);
    w1.end.end();
    await Wire.settle();
    const w2 = new Wire(server);
    w2.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    expect((await w2.packetsAfter(1))[0]).toMatchObject({ type: 'JOB_ASSIGN', handle: 'H:t:1' });
    w2.send({ type: 'WORK_COMPLETE', handle: 'H:t:1', data: b('done') });
    expect((await c.packetsAfter(2))[1]).toEqual({
      type: 'WORK_COMPLETE',
      handle: 'H:t:1',
      data: b('done'),
    });
  });
});

describe('found by fuzzing', () => {
  it('answers GET_STATUS and GET_STATUS_UNIQUE whose argument holds a NUL, as a C string', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'u1', data: b('') });
    c.send(
      { type: 'GET_STATUS', handle: 'H:t:1\0junk' },
      { type: 'GET_STATUS_UNIQUE', unique: 'u1\0x' },
    );
    expect((await c.packetsAfter(3)).slice(1)).toEqual([
      {
        type: 'STATUS_RES',
        handle: 'H:t:1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
      },
      {
        type: 'STATUS_RES_UNIQUE',
        unique: 'u1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
        clientCount: '0',
      },
    ]);
  });
});

describe('arguments the job server refuses', () => {
  it('answers CAN_DO with a NUL in the name with INVALID_ARGUMENT and keeps the connection', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send({ type: 'CAN_DO', functionName: 'bad\0name' }, { type: 'ECHO_REQ', data: b('alive') });
    expect(await c.packetsAfter(2)).toEqual([
      {
        type: 'ERROR',
        errorCode: 'INVALID_ARGUMENT',
        errorText: 'function name must not contain a NUL byte',
      },
      { type: 'ECHO_RES', data: b('alive') },
    ]);
  });
});

describe('CAN_DO_TIMEOUT on the wire (reference §3.6)', () => {
  it('raises 1-999 ms to 1000, treats garbage as no timeout, refuses over-long values', async () => {
    const scheduler = new TestScheduler(() => undefined);
    const jobs = createJobServer({ handlePrefix: 'H:t', scheduler });
    const server = new GearmanServer(jobs);
    const client = new Wire(server);
    client.send(
      { type: 'SUBMIT_JOB', functionName: 'short', unique: '', data: b('') },
      { type: 'SUBMIT_JOB', functionName: 'none', unique: '', data: b('') },
    );
    await client.packetsAfter(2);
    const worker = new Wire(server);
    worker.send(
      { type: 'CAN_DO_TIMEOUT', functionName: 'short', timeout: '500' },
      { type: 'CAN_DO_TIMEOUT', functionName: 'none', timeout: 'abc' },
      { type: 'CAN_DO_TIMEOUT', functionName: 'long', timeout: '1'.repeat(21) },
      { type: 'GRAB_JOB' },
      { type: 'GRAB_JOB' },
    );
    const replies = await worker.packetsAfter(3);
    expect(replies[0]).toMatchObject({ type: 'ERROR', errorCode: 'ARGUMENT_TOO_LARGE' });
    const advance = advancer(scheduler);
    advance(999);
    await Wire.settle();
    expect(client.packets).toHaveLength(2);
    advance(1000);
    expect(await client.packetsAfter(3)).toContainEqual({ type: 'WORK_FAIL', handle: 'H:t:1' });
    advance(100_000);
    await Wire.settle();
    expect(client.packets).toHaveLength(3);
    expect(await jobs.status('H:t:2')).toMatchObject({ known: true, running: true });
  });
});

describe('a peer that half-closes', () => {
  it('still receives the replies to its last requests', async () => {
    const server = setup({ version: '1.2.3' });
    const c = new Wire(server);
    c.send({ type: 'ECHO_REQ', data: b('last') });
    c.sendRaw('version\n');
    c.end.end();
    await c.until(() => c.closed);
    expect(c.packets).toEqual([{ type: 'ECHO_RES', data: b('last') }]);
    expect(c.raw.toString('latin1').endsWith('OK 1.2.3\n')).toBe(true);
  });
});

describe('rate limits on the wire', () => {
  it('answers NO_JOB over the limit and wakes the sleeping worker with NOOP when it allows', async () => {
    const scheduler = new TestScheduler(() => undefined);
    const jobs = createJobServer({ handlePrefix: 'H:t', scheduler });
    await jobs.setFunctionLimits('pay', { rate: { max: 1, duration: 1000 } });
    const server = new GearmanServer(jobs);
    const client = new Wire(server);
    client.send(
      { type: 'SUBMIT_JOB_BG', functionName: 'pay', unique: '', data: b('a') },
      { type: 'SUBMIT_JOB_BG', functionName: 'pay', unique: '', data: b('b') },
    );
    await client.packetsAfter(2);
    const worker = new Wire(server);
    worker.send(
      { type: 'CAN_DO', functionName: 'pay' },
      { type: 'GRAB_JOB' },
      { type: 'GRAB_JOB' },
      { type: 'PRE_SLEEP' },
    );
    const replies = await worker.packetsAfter(2);
    expect(replies.map((p) => p.type)).toEqual(['JOB_ASSIGN', 'NO_JOB']);
    const advance = advancer(scheduler);
    advance(999);
    await Wire.settle();
    expect(worker.packets).toHaveLength(2);
    advance(1000);
    expect((await worker.packetsAfter(3))[2]).toEqual({ type: 'NOOP' });
    worker.send({ type: 'GRAB_JOB' });
    expect((await worker.packetsAfter(4))[3]).toMatchObject({ type: 'JOB_ASSIGN', data: b('b') });
  });
});
