import type { Packet } from '@geartrain/protocol';
import { afterEach, expect, it } from 'vitest';
import { describeOnBothServers, startGeartrain, type TestServer } from './support/interop.js';
import { RawPeer } from './support/raw-peer.js';

/**
 * A woken worker that never answers must not stall the job (issue 11), and what Perl's
 * Gearman::Worker sends for an empty result. Raw sockets against gearmand and geartrain.
 */

const peers: RawPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function peer(server: TestServer): Promise<RawPeer> {
  const p = await RawPeer.connect(server.port);
  peers.push(p);
  return p;
}

/** A worker for `f` that has sent PRE_SLEEP, and the server has handled it. */
async function sleepingWorker(server: TestServer): Promise<RawPeer> {
  const w = await peer(server);
  w.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'PRE_SLEEP' });
  await w.barrier();
  return w;
}

/** Answers every NOOP with GRAB_JOB_UNIQ, as a live worker does. */
function answerWakes(w: RawPeer): void {
  w.on('NOOP', () => w.send({ type: 'GRAB_JOB_UNIQ' }));
}

const submitBackground = (payload: string): Packet => ({
  type: 'SUBMIT_JOB_BG',
  functionName: 'f',
  unique: '',
  data: Buffer.from(payload),
});

describeOnBothServers([], 'wake-ups', (server) => {
  it('hands the job to a live sleeper when the sleeper woken first never reads again', async () => {
    // Worker A registers, sleeps, and then never reads (a forked child killed while its
    // parent keeps the socket). Worker B sleeps after it.
    const a = await sleepingWorker(server());
    a.stopReading();
    const b = await sleepingWorker(server());
    answerWakes(b);
    const client = await peer(server());
    client.send(submitBackground('order-1'));
    const created = await client.next('JOB_CREATED');
    // gearmand wakes both at once (--worker-wakeup=0); geartrain wakes A, then B once A has
    // not asked for work within wakeTimeout (100 ms).
    const assigned = await b.next('JOB_ASSIGN_UNIQ', 1, 5000);
    expect(assigned.handle).toBe(created.handle);
    expect(assigned.data.toString()).toBe('order-1');
  });

  it('wakes a silent worker once, and the live one once, for a job', async () => {
    // A reads but never answers (hung); B answers. Each is woken exactly once on both servers.
    const a = await sleepingWorker(server());
    const b = await sleepingWorker(server());
    answerWakes(b);
    const client = await peer(server());
    client.send(submitBackground('x'));
    await b.next('JOB_ASSIGN_UNIQ', 1, 5000);
    await a.next('NOOP');
    await Promise.all([a.barrier(), b.barrier()]);
    expect([a.received('NOOP').length, b.received('NOOP').length]).toEqual([1, 1]);
  });

  it('reads a bare-handle WORK_DATA, WORK_WARNING and WORK_COMPLETE as empty data (Perl "" and 0)', async () => {
    const worker = await peer(server());
    worker.send({ type: 'CAN_DO', functionName: 'f' });
    await worker.barrier();
    const client = await peer(server());
    client.send({ type: 'SUBMIT_JOB', functionName: 'f', unique: '', data: Buffer.from('p') });
    const { handle } = await client.next('JOB_CREATED');
    worker.send({ type: 'GRAB_JOB' });
    await worker.next('JOB_ASSIGN');
    const bare = (code: number) => {
      const header = Buffer.alloc(12);
      header.writeUInt32BE(0x00524551, 0);
      header.writeUInt32BE(code, 4);
      header.writeUInt32BE(Buffer.byteLength(handle), 8);
      return Buffer.concat([header, Buffer.from(handle)]);
    };
    worker.sendRaw(Buffer.concat([bare(28), bare(29), bare(13)]));
    if (server().name === 'gearmand') {
      // gearmand does not answer: it closes the worker's connection and forwards nothing.
      await worker.whenClosed();
      await client.barrier();
      expect(client.packets.map((p) => p.type)).toEqual(['JOB_CREATED', 'ECHO_RES']);
      return;
    }
    // geartrain: the client gets each with empty data, and the job is done.
    const complete = await client.next('WORK_COMPLETE');
    expect(complete).toEqual({ type: 'WORK_COMPLETE', handle, data: Buffer.alloc(0) });
    expect(client.packets.map((p) => p.type)).toEqual([
      'JOB_CREATED',
      'WORK_DATA',
      'WORK_WARNING',
      'WORK_COMPLETE',
    ]);
    expect(client.received('WORK_DATA')[0]!.data.length).toBe(0);
    await worker.barrier();
    expect(worker.received('ERROR')).toEqual([]);
    expect(worker.closed).toBe(false);
  });
});

describeOnBothServers([], 'what stays malformed', (server) => {
  it('refuses a WORK_EXCEPTION without its separator', async () => {
    const worker = await peer(server());
    worker.sendRaw(
      Buffer.concat([
        Buffer.from([0, 0x52, 0x45, 0x51, 0, 0, 0, 25, 0, 0, 0, 5]),
        Buffer.from('H:x:1'),
      ]),
    );
    worker.send({ type: 'ECHO_REQ', data: Buffer.from('next') });
    if (server().name === 'gearmand') {
      // gearmand reads past the packet's size for the separator, then closes.
      await worker.whenClosed();
      return;
    }
    // geartrain refuses it and goes on with the next packet.
    const error = await worker.next('ERROR');
    expect(error.errorCode).toBe('INVALID_PACKET');
    await worker.next('ECHO_RES');
  });
});

it('geartrain with workerWakeup 0 wakes every sleeper for one job, as gearmand does', async () => {
  const s = await startGeartrain({ workerWakeup: 0 });
  try {
    const workers = [];
    for (let i = 0; i < 3; i++) workers.push(await sleepingWorker(s));
    const client = await peer(s);
    client.send(submitBackground('x'));
    await client.next('JOB_CREATED');
    await Promise.all(workers.map((w) => w.next('NOOP')));
    expect(workers.map((w) => w.received('NOOP').length)).toEqual([1, 1, 1]);
  } finally {
    await s.stop();
  }
});
