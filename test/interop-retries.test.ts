// Retries under a per-function policy, driven by PHP's GearmanClient and GearmanWorker over
// TCP: the PHP code knows nothing of the policy; the server retries the job under the same
// handle, and the client polling jobStatus sees it known (not running between attempts)
// until the attempt that succeeds.
import type { JobEvent } from '@geartrain/core';
import { createConnection } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import {
  background,
  describeWithTools,
  run,
  startGeartrain,
  type TestServer,
} from './support/interop.js';

const dir = fileURLToPath(new URL('./interop/', import.meta.url));

async function admin(port: number, line: string): Promise<string> {
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.write(`${line}\n`);
  const [reply] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return reply.toString();
}

describeWithTools(['php'], 'retries with a per-function policy, from PHP', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it('a PHP job that fails twice succeeds on its third attempt, known all along', async () => {
    server = await startGeartrain({ jobPolicies: { flaky: { attempts: 3, backoff: 100 } } });
    const events: JobEvent[] = [];
    server.jobServer!.events$.subscribe((e) => events.push(e));
    const worker = background('php', ['worker.php', String(server.port), '10'], dir);
    try {
      const result = await run('php', ['client.php', String(server.port), 'flaky-status'], {
        cwd: dir,
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      const out = JSON.parse(result.stdout.toString()) as {
        handle: string;
        statuses: [boolean, boolean, number, number][];
      };
      expect(out.statuses.at(-1)).toEqual([false, false, 0, 0]);
      expect(out.statuses.slice(0, -1).every(([known]) => known)).toBe(true);
      const mine = events.filter((e) => 'handle' in e && e.handle === out.handle);
      expect(mine.filter((e) => e.type === 'retrying')).toMatchObject([
        { attempt: 1, reason: 'WORK_FAIL', delay: 100 },
        { attempt: 2, reason: 'WORK_FAIL', delay: 100 },
      ]);
      expect(
        mine.filter((e) => e.type === 'started').map((e) => e.type === 'started' && e.attempt),
      ).toEqual([1, 2, 3]);
      expect(mine.at(-1)?.type).toBe('completed');
    } finally {
      await worker.stop();
    }
  });

  it('shows and sets the policy through the admin command; other replies are unchanged', async () => {
    server = await startGeartrain();
    expect(await admin(server.port, 'policy flaky')).toBe('OK none\n');
    expect(
      await admin(server.port, 'policy flaky attempts=4,backoff=exponential,delay=500,max=8000'),
    ).toBe('OK\r\n');
    expect(await admin(server.port, 'policy flaky')).toBe(
      'OK attempts=4,backoff=exponential,delay=500,max=8000\n',
    );
    expect(await server.jobServer!.jobPolicy('flaky')).toMatchObject({ attempts: 4 });
    expect(await admin(server.port, 'policy flaky attempts=0')).toMatch(/^ERR INVALID_ARGUMENTS /);
    expect(await admin(server.port, 'policy flaky tries=2')).toMatch(
      /^ERR INVALID_ARGUMENTS unknown\+setting/,
    );
    // What is kept is part of the policy: set with the retries, shown with them, and a
    // setting replaces the whole policy (the back-off above is gone).
    expect(
      await admin(server.port, 'policy flaky attempts=2,keep-completed=100,keep-failed-age=60000'),
    ).toBe('OK\r\n');
    expect(await admin(server.port, 'policy flaky')).toBe(
      'OK attempts=2,backoff=fixed,delay=0,keep-completed=100,keep-failed=all,keep-failed-age=60000\n',
    );
    expect(await server.jobServer!.jobPolicy('flaky')).toMatchObject({
      attempts: 2,
      keep: { completed: { count: 100 }, failed: { count: Infinity, age: 60000 } },
    });
    expect(await admin(server.port, 'policy flaky keep-failed=lots')).toMatch(
      /^ERR INVALID_ARGUMENTS keep-failed\+is\+a\+count/,
    );
    expect(await admin(server.port, 'policy flaky keep-failed=5')).toBe('OK\r\n');
    expect(await server.jobServer!.jobPolicy('flaky')).toEqual({ keep: { failed: { count: 5 } } });
    expect(await admin(server.port, 'policy flaky none')).toBe('OK\r\n');
    expect(await server.jobServer!.jobPolicy('flaky')).toBeNull();
  });

  it('lists dead letters through the admin port, runs one again with retry job, discards another', async () => {
    server = await startGeartrain({ jobPolicies: { flaky: { attempts: 1 } } });
    const jobs = server.jobServer!;
    // No worker can succeed: a PHP worker that always fails ('fail' sends WORK_FAIL).
    await jobs.setJobPolicy('fail', { attempts: 2 });
    const worker = background('php', ['worker.php', String(server.port), '20'], dir);
    try {
      const client = jobs.client();
      const a = await client.submit('fail', 'a', { background: true });
      const b = await client.submit('fail', 'b', { background: true });
      let ended!: () => void;
      const both = new Promise<void>((resolve) => (ended = resolve));
      let failed = 0;
      jobs.events$.subscribe((e) => {
        // Each is a dead letter once it failed (an event comes once the queue has it).
        if (e.type === 'failed' && ++failed === 2) ended();
      });
      await both;
      const listing = await admin(server.port, 'show failed fail');
      const lines = listing.split('\n');
      expect(lines.at(-2)).toBe('.');
      expect(lines.slice(0, 2).map((l) => l.split('\t').slice(0, 4))).toEqual([
        [a.handle, 'fail', '2', 'WORK_FAIL'],
        [b.handle, 'fail', '2', 'WORK_FAIL'],
      ]);
      expect(await admin(server.port, 'show finished fail')).toBe('.\n');
      expect(await admin(server.port, `discard job ${b.handle}`)).toBe('OK\r\n');
      expect(await admin(server.port, `discard job ${b.handle}`)).toMatch(/^ERR NO_SUCH_JOB /);
      // Run a again: the PHP worker fails it twice more, and it is a dead letter again.
      let again!: () => void;
      const rerun = new Promise<void>((resolve) => (again = resolve));
      jobs.events$.subscribe((e) => {
        if (e.type === 'failed' && e.handle === a.handle) again();
      });
      expect(await admin(server.port, `retry job ${a.handle}`)).toBe('OK\r\n');
      await rerun;
      expect(await jobs.outcome(a.handle)).toMatchObject({ state: 'failed', attempts: 2 });
      expect(await admin(server.port, 'discard failed fail')).toBe('OK 1\n');
      expect(await admin(server.port, 'show failed')).toBe('.\n');
      // gearmand's own replies are untouched by the additions.
      expect(await admin(server.port, 'show bogus')).toBe('ERR UNKNOWN_SHOW_ARGUMENTS\r\n');
      expect(await admin(server.port, 'retry')).toMatch(/^ERR UNKNOWN_COMMAND .*retry\r\n$/);
    } finally {
      await worker.stop();
    }
  });
});
