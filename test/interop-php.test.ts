import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { background, describeOnBothServers, run } from './support/interop.js';

const dir = fileURLToPath(new URL('./interop/', import.meta.url));

/**
 * PHP's GearmanClient and GearmanWorker (Debian's php-gearman on libgearman) against
 * geartrain and the reference gearmand side by side: each scenario must give the same answer
 * on both.
 */
describeOnBothServers(['php'], 'PHP client and worker', (server) => {
  let worker: ReturnType<typeof background>;
  beforeEach(() => {
    worker = background('php', ['worker.php', String(server().port), '100'], dir);
  });
  afterEach(async () => {
    await worker.stop();
  });

  async function client(scenario: string): Promise<Record<string, unknown>> {
    const result = await run('php', ['client.php', String(server().port), scenario], {
      cwd: dir,
      timeout: 30_000,
    });
    if (result.code !== 0) throw new Error(`php ${scenario} failed: ${result.stderr}`);
    return JSON.parse(result.stdout.toString()) as Record<string, unknown>;
  }

  it('polls jobStatus of a background job while its worker reports progress, until done', async () => {
    const out = await client('background-status');
    expect(out['created']).toBe(true);
    const statuses = out['statuses'] as [boolean, boolean, number, number][];
    expect(statuses.at(-1)).toEqual([false, false, 0, 0]);
    // Known until done: queued at first (the worker may still be connecting), then running
    // with progress that never goes back.
    const live = statuses.slice(0, -1);
    expect(live.every(([known]) => known)).toBe(true);
    const firstRunning = live.findIndex(([, isRunning]) => isRunning);
    expect(firstRunning).toBeGreaterThanOrEqual(0);
    const running = live.slice(firstRunning);
    expect(
      running.every(([, isRunning, , denominator]) => isRunning && [0, 3].includes(denominator)),
    ).toBe(true);
    expect(live.slice(0, firstRunning).every(([, , n, d]) => n === 0 && d === 0)).toBe(true);
    const numerators = running.map(([, , n]) => n);
    expect(numerators).toEqual([...numerators].sort((x, y) => x - y));
    expect(new Set(numerators).size).toBeGreaterThanOrEqual(2);
  });

  it('gives the same handle to the same unique id submitted twice while queued', async () => {
    expect(await client('unique')).toEqual({
      same: true,
      other: true,
      status: [true, false, 0, 0],
    });
  });

  it('runs doNormal, doHigh and doLow, binary workloads with NUL bytes included', async () => {
    expect(await client('do')).toEqual({
      normal: 'cba',
      high: 'fed',
      low: 'ihg',
      binary: Buffer.from('\xff\0b\0a', 'latin1').toString('hex'),
    });
  });

  it('runs a task set with complete, data, warning, status, fail and exception callbacks', async () => {
    const out = await client('tasks');
    expect(out['ok']).toBe(true);
    const events = out['events'] as unknown[][];
    const of = (task: string) => events.filter((e) => e[1] === task);
    expect(of('t-chunks')).toEqual([
      ['data', 't-chunks', 'a'],
      ['data', 't-chunks', 'b'],
      ['warning', 't-chunks', 'careful'],
      ['status', 't-chunks', 1, 2],
      ['complete', 't-chunks', 'c'],
    ]);
    expect(of('t-reverse')).toEqual([['complete', 't-reverse', 'hello']]);
    expect(of('t-fail')).toEqual([['fail', 't-fail']]);
    // PHP's client asks for exceptions (OPTION_REQ exceptions) on connect.
    expect(of('t-exception')).toEqual([['exception', 't-exception', 'disk full']]);
    // The order across tasks differs: gearmand serves a worker's functions newest
    // registration first, geartrain in turns (reference §8, item 13).
    expect(events).toHaveLength(8);
  });

  it('reports a failing worker: GEARMAN_WORK_FAIL and GEARMAN_WORK_EXCEPTION', async () => {
    expect(await client('failing')).toEqual({
      result: '',
      code: 24,
      workFail: true,
      exceptionCode: true,
    });
  });

  it('carries 1 MiB and 8 MiB workloads', async () => {
    expect(await client('large')).toEqual({ '1MiB': true, '8MiB': true });
  });
});
