// The dashboard page of a cluster, in Debian's Chromium (headless, driven by playwright-core):
// two nodes on one PostgreSQL queue, the page served by node A. It lists both nodes, shows a
// job that node B's worker runs, and its actions work on jobs of any node: a cancel from A's
// page stops B's worker, a retry from it runs B's failed job again, a pause from it holds the
// function on B. Every wait is on the page's or the servers' own state (no sleeps).
import { createJobServer, type JobServer } from '@geartrain/core';
import { createMetrics, serveDashboard, type ServedDashboard } from '@geartrain/dashboard';
import { postgresQueue } from '@geartrain/postgres';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, openPage, type OpenedPage } from './support/chromium.js';
import { until } from './support/cluster.js';
import { describeWithTools } from './support/interop.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

const TOKEN = 'cluster-page-token';
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const WAIT = { timeout: 10_000 };

describeWithPostgres('the dashboard page of a cluster', () => {
  describeWithTools([CHROMIUM], 'in Chromium', () => {
    let db: PostgresServer;
    let a: JobServer;
    let b: JobServer;
    let served: ServedDashboard;
    let browser: OpenedPage | undefined;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      db = await startPostgres();
      const node = (name: string) =>
        createJobServer({
          nodeName: name,
          queue: postgresQueue({ connectionString: db.connectionString, schema: 'dash' }),
        });
      a = node('node-a');
      b = node('node-b');
      await Promise.all([a.ready, b.ready]);
      served = await serveDashboard(a, { token: TOKEN, interval: 100, processMetrics: false });
      browser = await openPage(problems);
      page = browser.page;
      await page.goto(`http://127.0.0.1:${served.address.port}/`);
      await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
      await page.locator('#token').fill(TOKEN);
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.locator('#token-state', { hasText: 'token set' }).waitFor(WAIT);
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await served?.close();
      for (const server of [a, b]) await server?.close({ timeout: 0 });
      await db?.stop();
    }, 60_000);

    const row = (section: string, key: string) => page.locator(`#${section} tr[data-key="${key}"]`);

    it('lists both nodes, node A as the page’s own', async () => {
      await row('nodes', a.node.id).getByText('node-a (this page)').waitFor(WAIT);
      await row('nodes', b.node.id).getByText('node-b', { exact: true }).waitFor(WAIT);
      await page.locator('#total-nodes', { hasText: '2' }).waitFor(WAIT);
      expect(problems).toEqual([]);
    });

    it("shows a job that node B's worker runs, and cancels it from node A's page", async () => {
      let aborted = false;
      const held: string[] = [];
      const worker = b.worker().register(
        'resize',
        (job) =>
          new Promise<string>((resolve) => {
            held.push(job.handle);
            job.signal.addEventListener('abort', () => {
              aborted = true;
              resolve('');
            });
          }),
      );
      try {
        const job = await a.client().submit('resize', 'photo.jpg', { background: true });
        const running = row('running', job.handle);
        await running.getByText('on node-b').waitFor(WAIT);
        // B's row says it runs one job (its heartbeat writes its functions once a second).
        await row('nodes', b.node.id).getByText('resize').waitFor(WAIT);
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });
        await running.getByRole('button', { name: 'Cancel' }).click();
        await page.locator('#message', { hasText: `Cancelled ${job.handle}.` }).waitFor(WAIT);
        await until(() => aborted, "node B's worker to be stopped");
        await running.waitFor({ state: 'detached', ...WAIT });
        expect(held).toEqual([job.handle]);
      } finally {
        await worker.stop({ timeout: 0 });
      }
      expect(problems).toEqual([]);
    });

    it("retries from node A's page a job that failed on node B; it runs on B again", async () => {
      await a.setJobPolicy('charge', { keep: { failed: { count: 10 } } });
      const attempts: number[] = [];
      const worker = b.worker().register('charge', (job) => {
        attempts.push(job.attempt);
        if (attempts.length === 1) throw new Error('card declined');
        return 'paid';
      });
      try {
        const job = await b.client().submit('charge', 'order 7', { background: true });
        const failed = row('failed', job.handle);
        await failed.getByText('card declined').waitFor(WAIT);
        await failed.getByRole('button', { name: 'Retry' }).click();
        await page.locator('#message', { hasText: `Queued ${job.handle} again.` }).waitFor(WAIT);
        await failed.waitFor({ state: 'detached', ...WAIT });
        await until(() => attempts.length === 2, "node B's worker to run it again");
        await until(async () => !(await a.status(job.handle)).known, 'the job to end');
      } finally {
        await worker.stop({ timeout: 0 });
      }
      expect(problems).toEqual([]);
    });

    it("pauses a function from node A's page: node B holds its jobs until the resume", async () => {
      const ran: string[] = [];
      const worker = b.worker().register('mail', (job) => {
        ran.push(job.text());
        return 'sent';
      });
      try {
        const first = await a.client().submit('mail', 'welcome', { background: true });
        await until(async () => !(await a.status(first.handle)).known, 'the first mail to go');
        const pause = row('functions', 'mail').getByRole('button', { name: 'Pause' });
        await pause.click();
        await page.locator('#message', { hasText: 'Paused mail.' }).waitFor(WAIT);
        await until(() => b.paused('mail'), 'node B to hold mail');
        const held = await a.client().submit('mail', 'newsletter', { background: true });
        await row('functions', 'mail').getByText('paused').waitFor(WAIT);
        expect((await b.status(held.handle)).running).toBe(false);
        await row('functions', 'mail').getByRole('button', { name: 'Resume' }).click();
        await page.locator('#message', { hasText: 'Resumed mail.' }).waitFor(WAIT);
        await until(() => ran.length === 2, 'node B to send the held mail');
        expect(ran).toEqual(['welcome', 'newsletter']);
      } finally {
        await worker.stop({ timeout: 0 });
      }
      expect(problems).toEqual([]);
    });

    it('exports the queue’s gauges as the cluster’s on every node, and each node’s own liveness', async () => {
      for (let i = 0; i < 3; i++)
        await a.client().submit('archive', `box ${i}`, { background: true });
      const [onA, onB] = [
        createMetrics(a, { processMetrics: false }),
        createMetrics(b, { processMetrics: false }),
      ];
      try {
        const [textA, textB] = [await onA.metrics(), await onB.metrics()];
        const queued =
          'geartrain_jobs_queued{function="archive",priority="normal",scope="cluster"} 3';
        expect(textA).toContain(queued);
        expect(textB).toContain(queued);
        expect(textA).toContain('geartrain_nodes{scope="cluster"} 2');
        expect(textA).toMatch(/^gearman_up\{scope="node"\} 1$/m);
        expect(textA).toMatch(
          /^geartrain_jobs_submitted_total\{function="archive",scope="node"\} 3$/m,
        );
        // B submitted none of them: its own counter says so.
        expect(textB).not.toMatch(
          /^geartrain_jobs_submitted_total\{function="archive",scope="node"\} [1-9]/m,
        );
        const age = Number(
          /^geartrain_node_heartbeat_age_seconds\{scope="node"\} (\S+)$/m.exec(textB)?.[1],
        );
        expect(age).toBeGreaterThanOrEqual(0);
        expect(age).toBeLessThan(5);
      } finally {
        onA.close();
        onB.close();
      }
    });
  });
});
