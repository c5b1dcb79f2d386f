// The dashboard reads whether a function is paused from its settings record (issue 30): a
// pause set by `configure` shows on the page snapshot and in the metrics, and goes with it.
import { createJobServer, type JobServer } from '@geartrain/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, takeSnapshot, type JobServerMetrics } from '../src/index.js';

let server: JobServer | undefined;
let metrics: JobServerMetrics | undefined;
afterEach(async () => {
  metrics?.close();
  await server?.close({ timeout: 0 });
});

async function pausedGauge(m: JobServerMetrics, functionName: string) {
  const all = await m.registry.getMetricsAsJSON();
  const values = (all.find((x) => x.name === 'geartrain_function_paused')?.values ?? []) as {
    value: number;
    labels: Record<string, unknown>;
  }[];
  return values.find((v) => v.labels['function'] === functionName)?.value;
}

describe('the dashboard on the settings record', () => {
  it('shows a pause configure set, on the snapshot and in the metrics, until it is put back', async () => {
    server = createJobServer();
    metrics = createMetrics(server, { processMetrics: false });
    await server.createFunction('report');
    await server.configure('report', { paused: true, attempts: 3 });
    await server.configure('mail', { concurrency: 2 });
    const row = async () =>
      (await takeSnapshot(server!)).functions.find((f) => f.name === 'report')?.paused;
    expect(await row()).toBe(true);
    expect(await pausedGauge(metrics, 'report')).toBe(1);
    expect(await pausedGauge(metrics, 'mail')).toBeUndefined();
    await server.configure('report', { paused: null });
    expect(await row()).toBe(false);
    expect(await pausedGauge(metrics, 'report')).toBeUndefined();
  });
});
