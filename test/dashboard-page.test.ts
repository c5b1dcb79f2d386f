// The dashboard's page in a real browser: Debian's Chromium, headless, driven by
// playwright-core. Jobs are submitted and worked in process, so each step the page must
// show is caused by the test, and every wait is on the page's own state (no sleeps).
import { createJobServer, type JobServer } from '@geartrain/core';
import { createDashboardHandler, serveDashboard, type ServedDashboard } from '@geartrain/dashboard';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, openPage, type OpenedPage } from './support/chromium.js';
import { describeWithTools } from './support/interop.js';

const TOKEN = 'page-test-token';
/** Screenshots of each run, for a person to look at (CI keeps the folder). */
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const WAIT = { timeout: 10_000 };

describeWithTools([CHROMIUM], 'the dashboard page in Chromium', () => {
  let server: JobServer;
  let served: ServedDashboard;
  let browser: OpenedPage | undefined;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = createJobServer();
    served = await serveDashboard(server, { token: TOKEN, interval: 100, processMetrics: false });
    browser = await openPage(problems);
    ({ context, page } = browser);
    await page.goto(`http://127.0.0.1:${served.address.port}/`);
    await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await server?.close({ timeout: 0 });
  });

  const row = (section: string, key: string) => page.locator(`#${section} tr[data-key="${key}"]`);
  // A <progress>'s value and max are reflected attributes: CSS selectors can wait on them.
  const bar = (handle: string) => page.locator(`#running tr[data-key="${handle}"] progress`);
  const waitProgress = (handle: string, value: number, max: number) =>
    page
      .locator(`#running tr[data-key="${handle}"] progress[value="${value}"][max="${max}"]`)
      .waitFor(WAIT);

  it('loads with no console errors, served with a policy that allows only its own script', async () => {
    const response = await page.request.get(`http://127.0.0.1:${served.address.port}/`);
    expect(response.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(await page.title()).toBe('geartrain');
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Overview',
      'Find a job',
      'Functions',
      'Running',
      'Delayed',
      'Failed',
      'Nodes',
      'Workers and clients',
      'Schedules',
    ]);
    expect(problems).toEqual([]);
  });

  it('shows a background job appear, its progress bar move, and complete', async () => {
    const client = server.connect();
    const worker = server.connect();
    worker.clientId = 'resizer-1';
    worker.canDo('resize');
    const submitted = await client.submit({
      functionName: 'resize',
      payload: 'photo.jpg',
      background: true,
    });
    await row('functions', 'resize').waitFor(WAIT);
    await row('workers', String(worker.id)).getByText('resizer-1').waitFor(WAIT);
    const job = worker.grab()!;
    expect(job.handle).toBe(submitted.handle);
    await row('running', job.handle).waitFor(WAIT);

    worker.workStatus(job, 1, 4);
    await waitProgress(job.handle, 1, 4);
    worker.workStatus(job, 3, 4);
    await waitProgress(job.handle, 3, 4);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-running.png'), fullPage: true });

    worker.workComplete(job, 'done');
    await row('running', job.handle).waitFor({ state: 'detached', ...WAIT });
    expect(await bar(job.handle).count()).toBe(0);
    await page
      .locator('#functions tr[data-key="resize"] td:nth-child(6)', { hasText: '1' })
      .waitFor(WAIT);
    expect(problems).toEqual([]);
  });

  it('shows a failed job, refuses its retry without the token, and retries it with it', async () => {
    const client = server.connect();
    const worker = server.connect();
    worker.canDo('pay');
    await client.submit({ functionName: 'pay', payload: 'order 17', background: true });
    const job = worker.grab()!;
    worker.workException(job, 'card declined');
    const failed = row('failed', job.handle);
    await failed.getByText('card declined').waitFor(WAIT);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-failed.png'), fullPage: true });

    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.locator('#message', { hasText: 'UNAUTHORIZED' }).waitFor(WAIT);
    expect(await server.job(job.handle)).toBeUndefined();
    expect((await server.outcome(job.handle))?.state).toBe('failed');

    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('#token-state', { hasText: 'token set' }).waitFor(WAIT);
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.locator('#message', { hasText: `Queued ${job.handle} again.` }).waitFor(WAIT);
    expect((await server.job(job.handle))?.state).toBe('queued');
    await failed.waitFor({ state: 'detached', ...WAIT });

    const again = worker.grab()!;
    expect(again.handle).toBe(job.handle);
    worker.workComplete(again, 'paid');
    // Console errors for the refused request are the browser reporting a 401: expected.
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    problems.length = 0;
  });

  it('finds a job by its unique id from the keyboard', async () => {
    const client = server.connect();
    void client.submit({
      functionName: 'report',
      payload: 'q3',
      unique: 'report-q3',
      background: true,
      runAt: server.scheduler.now() + 3_600_000,
    });
    await row('delayed', (await server.jobs({ state: 'delayed' }))[0]!.handle).waitFor(WAIT);
    await page.locator('#search').focus();
    await page.keyboard.type('report-q3');
    await page.keyboard.press('Enter');
    await page.locator('#found', { hasText: 'delayed, attempt 1' }).waitFor(WAIT);
    await page.locator('#found', { hasText: 'runs in 59 min' }).waitFor(WAIT);
  });

  it('shows the class and message of an error a handler threw, and its stack when the job is found', async () => {
    class CardDeclined extends Error {}
    const worker = server.worker();
    worker.register('charge', () => {
      throw new CardDeclined('card declined: 4242');
    });
    const { handle } = await server
      .client()
      .submit('charge', 'order 18', { background: true, unique: 'order-18' });
    await row('failed', handle).getByText('CardDeclined: card declined: 4242').waitFor(WAIT);
    await page.locator('#search').fill('order-18');
    await page.keyboard.press('Enter');
    const found = page.locator('#found li', {
      hasText: 'EXCEPTION: CardDeclined: card declined: 4242',
    });
    await found.waitFor(WAIT);
    await found.getByText('stack').click();
    await found.locator('pre', { hasText: /^Error: card declined: 4242\n\s+at / }).waitFor(WAIT);
    await worker.stop();
    expect(problems).toEqual([]);
  });

  it('stops assignments when a function is paused from the page, by keyboard', async () => {
    const client = server.connect();
    const worker = server.connect();
    worker.canDo('resize');
    const pause = row('functions', 'resize').getByRole('button', { name: 'Pause' });
    await pause.focus();
    await page.keyboard.press('Enter');
    await page.locator('#message', { hasText: 'Paused resize.' }).waitFor(WAIT);
    expect((await server.controls()).find((c) => c.functionName === 'resize')?.paused).toBe(true);

    const submitted = await client.submit({
      functionName: 'resize',
      payload: 'b.jpg',
      background: true,
    });
    expect(worker.grab()).toBeUndefined();
    await row('functions', 'resize').getByText('paused').waitFor(WAIT);
    // The button kept its focus through the updates (rows change in place).
    expect(await page.locator(':focus').textContent()).toBe('Resume');

    await page.keyboard.press('Enter');
    await page.locator('#message', { hasText: 'Resumed resize.' }).waitFor(WAIT);
    const job = worker.grab()!;
    expect(job.handle).toBe(submitted.handle);
    worker.workComplete(job, 'ok');
    expect(problems).toEqual([]);
  });

  it('fits a phone and reads in dark mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
    // Expressions in the page's own terms (this file is compiled without the DOM's types).
    // The chart follows the new width from a ResizeObserver, whose callbacks run in the next
    // frame after the layout: the width is measured two animation frames later. (A string
    // for waitForFunction would be an eval, which the page's CSP refuses.)
    const fits = await page.evaluate(
      'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() =>' +
        ' resolve(document.documentElement.scrollWidth <= window.innerWidth))))',
    );
    expect(fits).toBe(true);
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(21, 23, 26)');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone-dark.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('works mounted under a path in the application’s own server, with or without the slash', async () => {
    const handler = createDashboardHandler(server, { prefix: '/jobs', processMetrics: false });
    const app = createServer((req, res) => {
      if (req.url?.startsWith('/jobs')) handler(req, res);
      else res.writeHead(200).end('the application');
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const mounted = await context.newPage();
    mounted.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    try {
      const { port } = app.address() as AddressInfo;
      for (const path of ['/jobs', '/jobs/']) {
        await mounted.goto(`http://127.0.0.1:${port}${path}`);
        await mounted.locator('#live', { hasText: 'live' }).waitFor(WAIT);
        await mounted.locator('#functions tr[data-key="resize"]').waitFor(WAIT);
      }
    } finally {
      await mounted.close();
      handler.close();
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
    expect(problems).toEqual([]);
  });
});
