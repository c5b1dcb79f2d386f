import { createJobServer, type JobServer } from '@geartrain/core';
import { Registry } from 'prom-client';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, OTHER_FUNCTIONS, type JobServerMetrics } from '../src/index.js';

let metrics: JobServerMetrics | undefined;
let server: JobServer | undefined;
afterEach(async () => {
  metrics?.close();
  await server?.close({ timeout: 0 });
});

/** The value of one series in prom-client's JSON view, or undefined. */
async function value(
  m: JobServerMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const all = await m.registry.getMetricsAsJSON();
  const metric = all.find((x) => x.name === name);
  const series = (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
  return series.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

function virtual() {
  const scheduler = new TestScheduler(() => undefined);
  return {
    scheduler,
    advanceTo(t: number) {
      scheduler.maxFrames = t;
      scheduler.flush();
      scheduler.frame = t;
    },
  };
}

describe('Prometheus metrics of a job server', () => {
  it('reads gauges from the server at scrape time, under the gearmand exporter names too', async () => {
    server = createJobServer();
    metrics = createMetrics(server, { processMetrics: false });
    const client = server.connect();
    void client.submit({ functionName: 'mail', payload: 'a', background: true, priority: 'high' });
    void client.submit({ functionName: 'mail', payload: 'b', background: true });
    void client.submit({ functionName: 'mail', payload: 'c', background: true, runAt: 1e15 });
    const worker = server.connect();
    worker.canDo('mail');
    worker.grab();
    await server.pause('report');
    await server.createFunction('report');
    expect(
      await value(metrics, 'geartrain_jobs_queued', { function: 'mail', priority: 'normal' }),
    ).toBe(2);
    expect(await value(metrics, 'geartrain_jobs_delayed', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'geartrain_jobs_running', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'geartrain_workers', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'geartrain_function_paused', { function: 'report' })).toBe(1);
    expect(await value(metrics, 'gearman_jobs', { function: 'mail' })).toBe(3);
    expect(await value(metrics, 'gearman_jobs_running', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'gearman_workers', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'gearman_up')).toBe(1);
    const text = await metrics.metrics();
    expect(text).toContain('# TYPE geartrain_jobs_submitted_total counter');
    expect(text).toContain('geartrain_jobs_running{function="mail"} 1');
  });

  it('counts submissions, outcomes, retries and requeues, and times waits and runs in seconds', async () => {
    const clock = virtual();
    server = createJobServer({ scheduler: clock.scheduler });
    await server.setJobPolicy('pay', { attempts: 2 });
    metrics = createMetrics(server, { processMetrics: false });
    const client = server.connect();
    const { handle } = client.submit({ functionName: 'pay', payload: 'x', background: true }) as {
      handle: string;
    };
    void client.submit({ functionName: 'mail', payload: 'x', background: true, unique: 'u' });
    void client.submit({ functionName: 'mail', payload: 'x', background: true, unique: 'u' });
    const worker = server.connect();
    worker.canDo('pay');
    clock.advanceTo(250);
    worker.grab();
    worker.workFail(handle); // retried (attempts: 2)
    worker.grab();
    clock.advanceTo(1250);
    worker.workComplete(handle, 'ok');
    // A mail job whose worker is lost goes back to its queue (no policy: requeued).
    const mailer = server.connect();
    mailer.canDo('mail');
    mailer.grab();
    mailer.close();
    const other = server.connect();
    other.canDo('mail');
    const again = other.grab()!;
    other.workComplete(again.handle, 'ok');
    expect(await value(metrics, 'geartrain_jobs_requeued_total', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'geartrain_jobs_coalesced_total', { function: 'mail' })).toBe(1);
    expect(await value(metrics, 'geartrain_jobs_submitted_total', { function: 'pay' })).toBe(1);
    expect(await value(metrics, 'geartrain_jobs_retried_total', { function: 'pay' })).toBe(1);
    expect(
      await value(metrics, 'geartrain_jobs_finished_total', {
        function: 'pay',
        outcome: 'completed',
      }),
    ).toBe(1);
    const text = await metrics.metrics();
    // The pay job waited 250 ms for its first attempt (its retry, queued again at once, has
    // no wait of its own: the server does not keep when the last attempt ended); the first
    // attempt failed at once, the second ran 1 s (the server's histograms, read at scrape).
    expect(text).toContain('# TYPE geartrain_job_wait_seconds histogram');
    expect(text).toMatch(/geartrain_job_wait_seconds_sum\{function="pay"\} 0\.25\n/);
    expect(text).toMatch(/geartrain_job_wait_seconds_count\{function="pay"\} 1\n/);
    expect(text).toMatch(/geartrain_job_run_seconds_bucket\{function="pay",le="0.5"\} 1\n/);
    expect(text).toMatch(/geartrain_job_run_seconds_bucket\{function="pay",le="1"\} 2\n/);
    expect(text).toMatch(/geartrain_job_run_seconds_bucket\{function="pay",le="\+Inf"\} 2\n/);
    expect(text).toMatch(/geartrain_job_run_seconds_sum\{function="pay"\} 1\n/);
    // Mail's two runs (the lost one and the completed one) are there too.
    expect(text).toMatch(/geartrain_job_run_seconds_count\{function="mail"\} 2\n/);
  });

  it("times the store's commits when the store reports them", async () => {
    server = createJobServer();
    metrics = createMetrics(server, { processMetrics: false });
    metrics.storeCommit(0.002);
    metrics.storeCommit(0.02);
    const text = await metrics.metrics();
    expect(text).toMatch(/geartrain_store_commit_seconds_count 2\b/);
    expect(text).toMatch(/geartrain_store_commit_seconds_bucket\{le="0.005"\} 1\b/);
  });

  it('folds function names past the cap into one label', async () => {
    server = createJobServer();
    metrics = createMetrics(server, { processMetrics: false, maxFunctions: 2 });
    const client = server.connect();
    for (const name of ['a', 'b', 'c', 'd']) {
      void client.submit({ functionName: name, payload: '', background: true });
    }
    expect(await value(metrics, 'geartrain_jobs_submitted_total', { function: 'a' })).toBe(1);
    expect(
      await value(metrics, 'geartrain_jobs_submitted_total', { function: OTHER_FUNCTIONS }),
    ).toBe(2);
  });

  it("sits in the application's own registry, beside its metrics and the process's", async () => {
    const registry = new Registry();
    registry.registerMetric(
      new (await import('prom-client')).Counter({
        name: 'app_requests_total',
        help: 'x',
        registers: [],
      }),
    );
    server = createJobServer();
    metrics = createMetrics(server, { registry });
    const text = await registry.metrics();
    expect(text).toContain('app_requests_total');
    expect(text).toContain('gearman_up 1');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});
