import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { background, describeOnBothServers, normalizeHandles, run } from './support/interop.js';

/**
 * The `gearman` and `gearadmin` programs of Debian's gearman-tools against geartrain and, side
 * by side, the reference gearmand: every scenario runs on both, and the two must agree except
 * where a test says why they differ.
 */
describeOnBothServers(['gearman', 'gearadmin'], 'gearman tools', (current) => {
  const gearman = (args: string[], input?: string | Buffer) =>
    run('gearman', ['-p', String(current().port), ...args], { input });
  const gearadmin = (...args: string[]) =>
    run('gearadmin', ['-p', String(current().port), ...args]);
  const worker = (args: string[]) =>
    background('gearman', ['-p', String(current().port), '-w', ...args]);

  it('runs a foreground job through a command-line worker', async () => {
    const w = worker(['-f', 'rev', '-c', '2', '--', 'rev']);
    try {
      const first = await gearman(['-f', 'rev'], 'hello\n');
      expect([first.code, first.stdout.toString()]).toEqual([0, 'olleh\n']);
      const second = await gearman(['-f', 'rev', 'abc']);
      expect(second.stdout.toString()).toBe('cba');
    } finally {
      await w.stop();
    }
  });

  it('queues background jobs, HIGH before NORMAL before LOW, coalescing a unique id', async () => {
    for (const [flag, payload] of [
      ['-L', 'low'],
      [undefined, 'normal'],
      ['-I', 'high'],
    ] as const) {
      const result = await gearman(['-f', 'order', '-b', ...(flag ? [flag] : []), payload]);
      expect(result.code).toBe(0);
    }
    await gearman(['-f', 'order', '-b', '-u', 'same', 'once']);
    await gearman(['-f', 'order', '-b', '-u', 'same', 'twice']);
    const status = await gearadmin('--status');
    expect(status.stdout.toString()).toBe('order\t4\t0\t0\n.\n');
    const unique = await gearadmin('--show-unique-jobs');
    expect(
      unique.stdout
        .toString()
        .split('\n')
        .filter((l) => l === 'same'),
    ).toHaveLength(1);
    // A worker without a command writes each workload to its stdout.
    const w = worker(['-f', 'order', '-c', '4']);
    await w.exited;
    // HIGH, then NORMAL in submission order (the unique job is NORMAL too), then LOW.
    expect(w.output()).toBe('highnormaloncelow');
  });

  it('carries 1 MiB and binary payloads with NUL bytes intact', async () => {
    // md5sum reads the whole workload before answering (the gearman worker writes all of
    // it to the command before reading, so an echoing command would deadlock on 1 MiB).
    const digest = worker(['-f', 'md5', '-c', '1', '--', 'md5sum']);
    const echo = worker(['-f', 'echo', '-c', '1', '--', 'cat']);
    try {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
      const result = await gearman(['-f', 'md5'], big);
      const expected = createHash('md5').update(big).digest('hex');
      expect(result.stdout.toString()).toBe(`${expected}  -\n`);
      const binary = Buffer.from([0, 1, 0, 255, 0, 10, 0]);
      expect((await gearman(['-f', 'echo'], binary)).stdout).toEqual(binary);
    } finally {
      await digest.stop();
      await echo.stop();
    }
  });

  it('reports a failed job (exit 1, "Job failed")', async () => {
    const w = worker(['-f', 'boom', '-c', '1', '--', 'false']);
    try {
      const result = await gearman(['-f', 'boom', 'x']);
      // gearman's worker fails the job when its command exits non-zero.
      expect(result.code).toBe(1);
      expect(result.stdout.toString() + result.stderr).toContain('Job failed');
    } finally {
      await w.stop();
    }
  });

  it('answers gearadmin: status, workers, jobs, unique jobs, functions, cancel, pid, version', async () => {
    const pid = await gearadmin('--getpid');
    expect(pid.stdout.toString()).toMatch(/^\d+\n$/);
    const version = await gearadmin('--server-version');
    // The only intended difference: geartrain reports its own version.
    expect(version.stdout.toString()).toBe(
      current().name === 'gearmand' ? '1.1.20+ds\n' : '0.1.0\n',
    );

    expect((await gearadmin('--create-function', 'made')).stdout.toString()).toBe('OK\n');
    expect((await gearadmin('--status')).stdout.toString()).toBe('made\t0\t0\t0\n.\n');
    expect((await gearadmin('--drop-function', 'made')).stdout.toString()).toBe('OK\n');
    expect((await gearadmin('--status')).stdout.toString()).toBe('.\n');

    await gearman(['-f', 'later', '-b', '-u', 'u-1', 'x']);
    const jobs = normalizeHandles((await gearadmin('--show-jobs')).stdout.toString());
    expect(jobs).toBe('H:1\t0\t0\t1\n.\n');
    expect((await gearadmin('--show-unique-jobs')).stdout.toString()).toBe('u-1\n.\n');
    const handle = /(\S+)\t/.exec((await gearadmin('--show-jobs')).stdout.toString())![1]!;
    expect((await gearadmin('--cancel-job', handle)).stdout.toString()).toBe('OK\n');
    const unknown = await gearadmin('--cancel-job', handle);
    if (current().name === 'gearmand') {
      // gearmand keeps a cancelled job as "ignored" until a worker looks: still known.
      expect(unknown.stdout.toString()).toBe('OK\n');
    } else {
      // geartrain removes it at once (reference §3.12, fixed).
      expect(unknown.stderr).toContain('UNKNOWN_JOB');
    }

    const w = worker(['-f', 'listed', '-c', '1']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const workers = (await gearadmin('--workers')).stdout.toString();
      expect(workers).toMatch(/^\d+ 127\.0\.0\.1 - : listed$/m);
      expect(workers.endsWith('.\n')).toBe(true);
    } finally {
      await w.stop();
    }
  });
});
