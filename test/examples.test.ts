import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from './support/interop.js';
import { describeWithPostgres, startPostgres } from './support/postgres/index.js';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../examples/', import.meta.url));

/** Runs an example the way `npm start` does (`node index.mjs`, or `node --test`), bounded in time. */
async function start(
  name: string,
  args = ['index.mjs'],
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await run(process.execPath, args, {
    cwd: `${examples}${name}`,
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return stdout;
}

describe('examples', () => {
  it('protocol-tour decodes the whole conversation fed byte by byte', async () => {
    const out = await start('protocol-tour');
    expect(out).toContain('REQ SUBMIT_JOB functionName=cli_rev');
    expect(out).toContain('REQ WORK_COMPLETE handle=H:vm:55 data="olleh\\n"');
    expect(out).toContain('admin "show jobs" -> show jobs');
    expect(out).toContain('cli_rev\t0\t0\t1\n.\n');
    expect(out).toContain('0 left over');
  });
});

describe('embedded example', () => {
  it('runs foreground, background with progress, unique ids and a delayed job', async () => {
    const out = await start('embedded');
    expect(out).toContain('reverse: namraeg olleh');
    // Progress polled while the job runs: numerators never go back, then the job is gone.
    const progress = [...out.matchAll(/running: true, (\d)\/\d/g)].map((m) => Number(m[1]));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(out).toMatch(/background job H:\S+:2\n( {2}running: true, \d\/\d\n)+ {2}done\n/);
    expect(out).toContain('same handle for the same unique id: true');
    expect(out).toMatch(/event delayed (\S+)\ndelayed job \1 queued until its time/);
    expect(out).toContain('closed unpaid order 7');
    expect(out.trim().endsWith('server closed')).toBe(true);
  });
});

describe('the examples users start from', () => {
  it('schedules: a nightly report, a five-minute cleanup and a rate-limited call', async () => {
    const out = await start('schedules');
    // 03:00 in Berlin is 02:00 UTC in December; the tick's job has the tick in its unique id.
    expect(out).toContain('report at 2026-12-02T02:00:00.000Z (job nightly-report:1796176800000)');
    // Two calls a second, at most.
    expect(out).toMatch(
      /partner-1 at \S+T02:00:00.000Z\n.*partner-2 at \S+T02:00:00.000Z\n.*partner-3 at \S+T02:00:01.000Z\n.*partner-4 at \S+T02:00:01.000Z\n.*partner-5 at \S+T02:00:02.000Z/,
    );
    expect(out).toContain('cleanups in one day: 288');
    expect(out).toContain('ticks: 289, rate-limit waits: 2');
    expect(out).toContain('real clock: 3 heartbeats');
  });

  it('retries: a flaky charge retried with back-off, a dead letter run again by hand', async () => {
    const out = await start('retries');
    expect(out).toMatch(/retrying (\S+): attempt 1 EXCEPTION, next in 20 ms\norder-1: completed/);
    expect(out).toMatch(/attempt 2 EXCEPTION, next in 40 ms\norder-2: failed/);
    expect(out).toMatch(/dead letter (\S+): 3 attempts, EXCEPTION/);
    expect(out).toContain('  attempt 3: ProviderDeclined: provider declined order-2 (attempt 3)');
    expect(out).toMatch(/\n {2}at .*retries\/index\.mjs:\d+:\d+\)?\n/);
    expect(out).toContain('(same handle: true)');
    expect(out.trim().endsWith('order-2: completed')).toBe(true);
  });

  it('durable: jobs accepted before a kill -9 are all back, under their handles', async () => {
    const out = await start('durable');
    const [, email, order, report] = /accepted (\S+) (\S+) (\S+)/.exec(out)!;
    expect(out).toContain('(accept: SIGKILL)');
    expect(out).toContain(`replayed ${email} send-email queued`);
    expect(out).toContain(`replayed ${order} close-order delayed`);
    expect(out).toContain(`replayed ${report} build-report queued`);
    expect(out).toContain(`ran build-report ${report} 00010200`);
    expect(out).toContain(`ran send-email ${email} `);
    expect(out).toContain(`the same unique id joins ${order} (coalesced: true)`);
    expect(out.trim().endsWith('(resume: exit 0)')).toBe(true);
  });

  it('reverse: a worker and a client over TCP', async () => {
    const out = await start('reverse');
    expect(out).toMatch(/geartrain listening on 127\.0\.0\.1:\d+/);
    expect(out).toContain('worker: reversing "Hello World!"');
    expect(out).toContain('client: !dlroW olleH');
  });

  it('background-progress: status polled until done, progress only going up', async () => {
    const out = await start('background-progress');
    const steps = [...out.matchAll(/running (\d)\/5/g)].map((m) => Number(m[1]));
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(out.trim().endsWith('done')).toBe(true);
  });

  it('unique-jobs: one job and one handle for the same unique id', async () => {
    const out = await start('unique-jobs');
    expect(out).toContain('same job: true');
    expect(out).toContain('queued jobs of rebuild-report: 1');
    expect(out).toContain('the job ran 1 time(s)');
  });

  it('delayed-order: the unpaid order closes, the paid one does not; its tests pass on virtual time', async () => {
    const out = await start('delayed-order');
    expect(out).toContain('A-1 is closed');
    expect(out).toContain('A-2 is paid');
    // TAP named: node's default reporter differs by version (TAP on 20, spec on 24).
    const tests = await start('delayed-order', ['--test', '--test-reporter=tap']);
    expect(tests).toMatch(/# pass 2\n# fail 0/);
  });

  it('supervised-threads: a crashed thread is replaced and no job is lost', async () => {
    const out = await start('supervised-threads');
    expect(out).toMatch(/thread \d+ crashed \(exit code 1, 1 job given back\)/);
    expect(out).toMatch(/thread \d+ restarted \(replaces thread \d+\)/);
    expect(out).toContain('40 of 40 thumbnails made');
    expect(out).toContain('photo-13: photo-13.thumb');
    expect(out).toContain('threads alive: 5');
  });

  it('worker-lifecycle: policies stop workers cleanly and a new one takes over', async () => {
    const out = await start('worker-lifecycle');
    expect(out).toMatch(/worker 1 stopped: memoryLimit after \d+ jobs/);
    expect(out).toMatch(/worker \d stopped: maxRunTime after \d+ jobs/);
    expect(out).toMatch(/30 rows imported by \d+ workers/);
    const log = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string });
    expect(log.some((entry) => entry.msg === 'job finished')).toBe(true);
  });

  it('testing: unit tests of a handler and of application code with @geartrain/testing', async () => {
    const out = await start('testing', ['--test', '--test-reporter=tap']);
    expect(out).toMatch(/# pass 4\n# fail 0/);
  });
});

describeWithTools(['php'], 'the PHP example', () => {
  it('a PHP client and worker against an embedded geartrain', async () => {
    const out = await start('php');
    expect(out).toContain('php client: reverse -> PHP morf olleH');
    expect(out).toMatch(/php client: background job H:\S+:2/);
    expect(out).toContain('php client: running 3/4');
    expect(out).toContain('php client: done');
    expect(out).toContain('node: shout -> PHP AND NODE');
  });
});

describeWithPostgres('schedules example on three replicas', () => {
  it('makes one job per tick with the schedule defined on every replica', async () => {
    const db = await startPostgres();
    try {
      const out = await start('schedules', ['cluster.mjs'], { DATABASE_URL: db.connectionString });
      expect(out).toMatch(/^three replicas, (2\d|[3-9]\d) ticks, 0 run twice$/m);
      expect(out).toMatch(/^run by: replica-\d \d+/m);
    } finally {
      await db.stop();
    }
  }, 60_000);
});

describeWithPostgres('orders-in-one-transaction example', () => {
  it('commits an order with its closing job, and leaves no job for the rolled-back one', async () => {
    const db = await startPostgres();
    try {
      const out = await start('orders-in-one-transaction', ['index.mjs'], {
        DATABASE_URL: db.connectionString,
      });
      expect(out).toMatch(/order A-1 placed; its closing job H:\S+ is queued/);
      expect(out).toContain('order A-2 rolled back');
      expect(out).toContain('orders: A-1\n');
      expect(out).toMatch(/delayed jobs: close-unpaid-order close-A-1 \(H:\S+\)\n/);
    } finally {
      await db.stop();
    }
  }, 60_000);
});
