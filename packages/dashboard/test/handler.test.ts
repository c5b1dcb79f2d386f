import { createJobServer, type JobServer } from '@geartrain/core';
import express from 'express';
import Fastify from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboardHandler, serveDashboard, type DashboardHandler } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function jobServer(): JobServer {
  const server = createJobServer();
  cleanups.push(() => server.close({ timeout: 0 }));
  void server.connect().submit({ functionName: 'mail', payload: 'x', background: true });
  return server;
}

function handlerFor(server: JobServer, prefix?: string): DashboardHandler {
  const handler = createDashboardHandler(server, { processMetrics: false, prefix });
  cleanups.push(() => handler.close());
  return handler;
}

/** Listens on a free loopback port; closed after the test. */
async function listen(http: Server): Promise<string> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text: await response.text(),
  };
}

describe('the dashboard handler', () => {
  it('serves /metrics under a prefix in node:http; 404 elsewhere, 405 for other methods', async () => {
    const handler = handlerFor(jobServer(), '/jobs');
    const base = await listen(createServer(handler));
    const metrics = await get(`${base}/jobs/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toContain('gearman_jobs{function="mail"} 1');
    expect((await get(`${base}/jobs/nothing`)).status).toBe(404);
    expect((await get(`${base}/jobs/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('mounts in Express (which strips its mount path), passing on what it does not serve', async () => {
    const app = express();
    app.use('/jobs', handlerFor(jobServer()));
    app.get('/jobs/other', (_req, res) => void res.send('the app'));
    const base = await listen(createServer(app));
    expect((await get(`${base}/jobs/metrics`)).text).toContain('geartrain_jobs_queued');
    expect((await get(`${base}/jobs/other`)).text).toBe('the app');
    expect(JSON.parse((await get(`${base}/jobs/api/snapshot`)).text)).toMatchObject({
      totals: { queued: 1 },
    });
  });

  it('mounts in Fastify, on the raw request', async () => {
    const handler = handlerFor(jobServer(), '/jobs');
    const app = Fastify();
    app.all('/jobs/*', (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const metrics = await get(`http://127.0.0.1:${port}/jobs/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('gearman_up 1');
    const found = await get(`http://127.0.0.1:${port}/jobs/api/job?q=nothing`);
    expect(JSON.parse(found.text)).toMatchObject({ query: 'nothing', job: null });
  });

  it('runs alone on a loopback port by default', async () => {
    const served = await serveDashboard(jobServer(), { processMetrics: false });
    cleanups.push(() => served.close());
    expect(served.address.address).toBe('127.0.0.1');
    const metrics = await get(`http://127.0.0.1:${served.address.port}/metrics`);
    expect(metrics.text).toContain('geartrain_jobs_submitted_total');
  });
});
