// The dashboard's /metrics read by promtool (Debian's prometheus package), the Prometheus
// project's own checker of the exposition format and its naming rules, and its values
// against the server's state.
import { createJobServer } from '@geartrain/core';
import { serveDashboard } from '@geartrain/dashboard';
import { expect, it } from 'vitest';
import { describeWithTools, run } from './support/interop.js';

describeWithTools(['promtool'], 'the metrics by promtool', () => {
  it('pass `promtool check metrics`, with values that are the server’s', async () => {
    const server = createJobServer();
    await server.setJobPolicy('pay', { attempts: 2 });
    const served = await serveDashboard(server);
    try {
      const client = server.connect();
      for (let i = 0; i < 3; i++) {
        void client.submit({ functionName: 'pay', payload: String(i), background: true });
      }
      void client.submit({
        functionName: 'mail',
        payload: 'x',
        background: true,
        priority: 'high',
      });
      const worker = server.connect();
      worker.canDo('pay');
      const first = worker.grab()!;
      worker.workFail(first.handle); // retried
      const second = worker.grab()!;
      worker.workComplete(second.handle, 'ok');
      await server.pause('mail');

      const response = await fetch(`http://127.0.0.1:${served.address.port}/metrics`);
      const text = await response.text();
      const checked = await run('promtool', ['check', 'metrics'], { input: text, timeout: 10_000 });
      // promtool prints each problem it finds, format or naming, one a line. prom-client's
      // own process metrics break one naming rule (gauges named `nodejs_active_*_total`);
      // nothing else may be reported, and nothing of ours.
      const problems = (checked.stdout.toString() + checked.stderr.toString())
        .split('\n')
        .filter((l) => l !== '');
      const known = /^nodejs_active_(handles|requests|resources)_total non-counter metrics/;
      expect(problems.filter((p) => !known.test(p))).toEqual([]);
      expect(problems.length === 0 ? 0 : 3).toBe(checked.code); // 3: lint problems only
      // And with the process metrics left out, not a single problem.
      const ours = await serveDashboard(server, { processMetrics: false });
      try {
        const bare = await (await fetch(`http://127.0.0.1:${ours.address.port}/metrics`)).text();
        const clean = await run('promtool', ['check', 'metrics'], { input: bare, timeout: 10_000 });
        expect(clean.stdout.toString() + clean.stderr.toString()).toBe('');
        expect(clean.code).toBe(0);
      } finally {
        await ours.close();
      }

      const line = (series: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${series} `))
            ?.slice(series.length + 1),
        );
      const pay = (await server.functions()).find((f) => f.functionName === 'pay')!;
      expect(line('gearman_jobs{function="pay"}')).toBe(pay.total);
      expect(line('geartrain_jobs_running{function="pay"}')).toBe(pay.running);
      expect(line('geartrain_jobs_queued{function="mail",priority="high"}')).toBe(1);
      expect(line('geartrain_function_paused{function="mail"}')).toBe(1);
      expect(line('geartrain_jobs_submitted_total{function="pay"}')).toBe(3);
      expect(line('geartrain_jobs_retried_total{function="pay"}')).toBe(1);
      expect(line('geartrain_jobs_finished_total{function="pay",outcome="completed"}')).toBe(1);
      // Two attempts ran: the failed one and the completed one.
      const payTimes = server.timings().find((t) => t.functionName === 'pay')!;
      expect(payTimes.run.count).toBe(2);
      expect(line('geartrain_job_run_seconds_count{function="pay"}')).toBe(payTimes.run.count);
      expect(line('geartrain_job_wait_seconds_bucket{function="pay",le="+Inf"}')).toBe(
        payTimes.wait.count,
      );
      expect(line('gearman_up')).toBe(1);
    } finally {
      await served.close();
      await server.close({ timeout: 0 });
    }
  });
});
