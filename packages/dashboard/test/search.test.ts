import { createJobServer, type JobServer } from '@geartrain/core';
import { afterEach, describe, expect, it } from 'vitest';
import { searchJob, serveDashboard } from '../src/index.js';

let server: JobServer | undefined;
afterEach(async () => {
  await server?.close({ timeout: 0 });
  server = undefined;
});

describe('searching a job', () => {
  it('finds a live job by handle and by unique id, and a kept outcome by either', async () => {
    server = createJobServer();
    const client = server.connect();
    const worker = server.connect();
    worker.canDo('pay');
    const { handle } = await client.submit({
      functionName: 'pay',
      payload: 'order 9',
      unique: 'order-9',
      background: true,
    });
    const job = worker.grab()!;
    worker.workStatus(job, 2, 5);

    const live = await searchJob(server, handle);
    expect(live.by).toBe('handle');
    expect(live.job).toMatchObject({ handle, state: 'running', numerator: 2, denominator: 5 });
    expect(live.outcome).toBeNull();
    expect(await searchJob(server, 'order-9')).toMatchObject({ by: 'unique', job: { handle } });

    worker.workException(job, 'x'.repeat(500));
    const ended = await searchJob(server, 'order-9');
    expect(ended.by).toBe('unique');
    expect(ended.job).toBeNull();
    expect(ended.outcome).toMatchObject({ handle, state: 'failed', attempts: 1 });
    // Error text is capped for the page; the outcome keeps the whole.
    expect(ended.outcome!.errors[0]!.error).toHaveLength(200);
    expect(ended.outcome!.errors[0]).toMatchObject({
      reason: 'EXCEPTION',
      name: null,
      stack: null,
    });
    expect((await searchJob(server, handle)).outcome?.handle).toBe(handle);

    expect(await searchJob(server, 'nothing')).toEqual({
      query: 'nothing',
      by: null,
      job: null,
      outcome: null,
    });
  });

  it('answers GET /api/job?q=, and 400 without a query', async () => {
    server = createJobServer();
    const served = await serveDashboard(server, { processMetrics: false });
    try {
      const base = `http://127.0.0.1:${served.address.port}`;
      const missing = await fetch(`${base}/api/job`);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
      const client = server.connect();
      const { handle } = await client.submit({
        functionName: 'mail',
        payload: 'hi',
        unique: 'a b&c',
        background: true,
      });
      const found = await fetch(`${base}/api/job?q=${encodeURIComponent('a b&c')}`);
      expect(found.status).toBe(200);
      expect(await found.json()).toMatchObject({ by: 'unique', job: { handle, state: 'queued' } });
    } finally {
      await served.close();
    }
  });
});
