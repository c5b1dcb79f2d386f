import { createJobServer, type JobServer } from '@geartrain/core';
import { afterEach, describe, expect, it } from 'vitest';
import { serveDashboard, type ServedDashboard } from '../src/index.js';

const TOKEN = 'test-token-7f3a';
let server: JobServer | undefined;
let served: ServedDashboard | undefined;
afterEach(async () => {
  await served?.close();
  await server?.close({ timeout: 0 });
  served = server = undefined;
});

async function start(token?: string) {
  server = createJobServer();
  served = await serveDashboard(server, { processMetrics: false, token });
  const base = `http://127.0.0.1:${served.address.port}`;
  const act = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/api/actions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { server, base, act };
}

describe('page actions', () => {
  it('are off without a token', async () => {
    const { act, server } = await start();
    const answer = await act({ action: 'pause', functionName: 'mail' });
    expect(answer).toMatchObject({ status: 403, body: { ok: false, code: 'ACTIONS_OFF' } });
    expect(await server.paused('mail')).toBe(false);
  });

  it('need the token, JSON, and the same site', async () => {
    const { act, server, base } = await start(TOKEN);
    const pause = { action: 'pause', functionName: 'mail' };
    expect((await act(pause, { authorization: '' })).body.code).toBe('UNAUTHORIZED');
    expect((await act(pause, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await act(pause, { 'sec-fetch-site': 'cross-site' })).body.code).toBe('CROSS_SITE');
    expect((await act(pause, { origin: 'http://evil.example' })).body.code).toBe('CROSS_SITE');
    expect((await act(pause, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(await server.paused('mail')).toBe(false);
    // The same request, from the page itself, is done.
    const origin = base;
    expect(await act(pause, { origin, 'sec-fetch-site': 'same-origin' })).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await server.paused('mail')).toBe(true);
    expect((await act({ action: 'resume', functionName: 'mail' })).status).toBe(200);
    expect(await server.paused('mail')).toBe(false);
    // Only POST.
    expect((await fetch(`${base}/api/actions`)).status).toBe(405);
  });

  it('cancel, retry and discard jobs; refuse bad requests with a code', async () => {
    const { act, server } = await start(TOKEN);
    await server.setJobPolicy('pay', { keep: { failed: { count: 10 } } });
    const client = server.connect();
    const live = (await client.submit({ functionName: 'mail', payload: 'x', background: true }))
      .handle;
    expect(await act({ action: 'cancel', handle: live })).toMatchObject({ status: 200 });
    expect(await server.job(live)).toBeUndefined();
    expect((await act({ action: 'cancel', handle: live })).body.code).toBe('JOB_NOT_FOUND');

    // A dead letter, retried from the page, runs again under its handle.
    const failing = (await client.submit({ functionName: 'pay', payload: 'p', background: true }))
      .handle;
    const worker = server.connect();
    worker.canDo('pay');
    worker.workFail(worker.grab()!);
    expect((await server.outcome(failing))?.state).toBe('failed');
    expect(await act({ action: 'retry', handle: failing })).toEqual({
      status: 200,
      body: { ok: true, handle: failing },
    });
    expect((await server.job(failing))?.state).toBe('queued');
    worker.workFail(worker.grab()!);
    expect(await act({ action: 'discard', handle: failing })).toMatchObject({ status: 200 });
    expect(await server.outcome(failing)).toBeUndefined();
    expect((await act({ action: 'retry', handle: failing })).body.code).toBe('JOB_NOT_FOUND');

    expect((await act('{not json')).body.code).toBe('BAD_REQUEST');
    expect((await act({ action: 'explode' })).status).toBe(400);
    expect((await act({ action: 'cancel' })).status).toBe(400);
    expect((await act({ action: 'pause', functionName: 'a\0b' })).body.code).toBe(
      'INVALID_ARGUMENT',
    );
    expect((await act({ action: 'cancel', handle: 'x'.repeat(5000) })).status).toBe(413);
    // The server is unharmed.
    expect(server.closed).toBe(false);
  });
});
