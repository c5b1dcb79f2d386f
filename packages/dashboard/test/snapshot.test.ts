import {
  createJobServer,
  InvalidArgumentError,
  ServerClosedError,
  type JobServer,
} from '@geartrain/core';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, serveDashboard, takeSnapshot } from '../src/index.js';

let server: JobServer | undefined;
afterEach(async () => {
  await server?.close({ timeout: 0 });
  server = undefined;
});

describe('the page snapshot', () => {
  it('refuses what is not a job server, and options that are not an object', async () => {
    const jobs = createJobServer();
    // A snapshot is a Promise: it rejects.
    await expect(takeSnapshot(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(takeSnapshot(jobs, null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const call of [
      () => createMetrics(undefined as never),
      () => createMetrics(jobs, null as never),
    ]) {
      expect(call).toThrow(InvalidArgumentError);
    }
    await expect(serveDashboard(jobs, null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await jobs.close({ timeout: 0 });
  });

  it('shows functions, running jobs with progress, delayed and failed jobs, workers, schedules', async () => {
    const scheduler = new TestScheduler(() => undefined);
    server = createJobServer({ scheduler });
    await server.setJobPolicy('pay', { keep: { failed: { count: 10 } } });
    await server.schedule('nightly', { every: 60_000, functionName: 'report', payload: '' });
    const client = server.connect();
    const resize = client.submit({ functionName: 'resize', payload: 'a', background: true }) as {
      handle: string;
    };
    void client.submit({ functionName: 'resize', payload: 'b', background: true });
    void client.submit({ functionName: 'mail', payload: 'c', background: true, runAt: 5000 });
    const pay = client.submit({ functionName: 'pay', payload: 'p', background: true }) as {
      handle: string;
    };
    await server.pause('mail');
    const worker = server.connect({ address: '10.0.0.7' });
    worker.clientId = 'resizer-1';
    worker.canDo('resize');
    worker.canDo('pay');
    expect(worker.grab()?.handle).toBe(resize.handle);
    worker.workStatus(resize.handle, 2, 5);
    expect(worker.grab()?.handle).toBe(pay.handle);
    worker.workException(pay.handle, Buffer.from('card declined'));

    const snap = await takeSnapshot(server);
    expect(snap.totals).toEqual({
      functions: 3, // report's appears with its first tick
      queued: 1,
      delayed: 1,
      running: 1,
      workers: 2,
      failed: 1,
      schedules: 1,
      nodes: 1,
    });
    // On the local queue, one node: this server, with its running job and its functions.
    expect(snap.shared).toBe(false);
    expect(snap.nodes).toEqual([
      expect.objectContaining({ id: server.node.id, self: true, running: 1 }),
    ]);
    expect([...snap.nodes[0]!.functions].sort()).toEqual(['pay', 'resize']);
    expect(snap.functions.find((f) => f.name === 'mail')).toMatchObject({
      paused: true,
      delayed: 1,
      queued: 0,
    });
    expect(snap.functions.find((f) => f.name === 'resize')).toMatchObject({
      queued: 1,
      running: 1,
      workers: 1,
    });
    expect(snap.running).toEqual([
      expect.objectContaining({ handle: resize.handle, numerator: 2, denominator: 5, node: null }),
    ]);
    expect(snap.delayed).toEqual([expect.objectContaining({ functionName: 'mail', runAt: 5000 })]);
    expect(snap.failed).toEqual([
      expect.objectContaining({
        handle: pay.handle,
        reason: 'EXCEPTION',
        error: 'card declined',
        // Sent over a connection: the text only, no class name.
        errorName: null,
      }),
    ]);
    const resizer = snap.workers.find((w) => w.clientId === 'resizer-1');
    expect(resizer?.address).toBe('10.0.0.7');
    expect([...(resizer?.functions ?? [])].sort()).toEqual(['pay', 'resize']);
    expect(snap.schedules).toEqual([
      expect.objectContaining({ id: 'nightly', timing: 'every 60000 ms', nextTick: 60_000 }),
    ]);
    // Lists are capped; the totals still count everything.
    expect((await takeSnapshot(server, { workers: 1 })).workers).toHaveLength(1);
    // Nothing left running, so the close does not wait on the virtual clock.
    worker.workComplete(resize.handle, Buffer.alloc(0));
  });

  it('is served as JSON at /api/snapshot', async () => {
    server = createJobServer();
    void server.connect().submit({ functionName: 'mail', payload: 'x', background: true });
    const served = await serveDashboard(server, { processMetrics: false });
    try {
      const response = await fetch(`http://127.0.0.1:${served.address.port}/api/snapshot`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = (await response.json()) as { totals: { queued: number } };
      expect(body.totals.queued).toBe(1);
    } finally {
      await served.close();
    }
  });

  it('answers 500 with the error’s code when the job server cannot answer', async () => {
    server = createJobServer();
    const served = await serveDashboard(server, { processMetrics: false });
    try {
      // As a shared queue out of reach: its views reject.
      server.functions = () => Promise.reject(new ServerClosedError());
      const response = await fetch(`http://127.0.0.1:${served.address.port}/api/snapshot`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        ok: false,
        code: 'SERVER_CLOSED',
        message: new ServerClosedError().message,
      });
    } finally {
      await served.close();
    }
  });
});
