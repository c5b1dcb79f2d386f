import { createClient, createWorker } from '@geartrain/client';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveCommand, type ServedCommand } from './support/command.js';

const state = mkdtempSync(join(tmpdir(), 'geartrain-cli-shutdown-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));
const env = { ...process.env, XDG_STATE_HOME: state };

/**
 * A worker of `served` that takes one `slow` job and holds it until `finish()`; resolves
 * once it holds the job, which a client submitted in the background.
 */
async function holdOneJob(served: ServedCommand) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let started!: () => void;
  const holding = new Promise<void>((resolve) => (started = resolve));
  const worker = createWorker({ servers: [served.address] });
  worker.register('slow', async () => {
    started();
    await finished;
    return 'done';
  });
  const client = createClient({ servers: [served.address] });
  const { handle } = await client.submit('slow', 'x', { background: true });
  client.close();
  await holding;
  return { handle, finish, worker };
}

describe('geartrain serve: stopping on signals', () => {
  it('says how many jobs it waits for, then that it stopped, where it said it was listening', async () => {
    const served = await serveCommand(['--port', '0', '--store', 'memory', '--verbose', 'INFO'], {
      env,
    });
    const { finish, worker } = await holdOneJob(served);
    try {
      served.child.kill('SIGINT');
      expect(await served.waitForLine(/stopping/)).toBe(
        'geartrain stopping on SIGINT: waiting up to 30000 ms for 1 running job to finish ' +
          '(SIGINT again stops at once)',
      );
      finish();
      expect(await served.waitForLine(/stopped/)).toBe('geartrain stopped');
      expect(await served.exited).toBe(0);
      const log = served
        .stderr()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; running?: number });
      expect(log.filter((l) => l.msg.startsWith('stop'))).toMatchObject([
        { msg: 'stopping', running: 1 },
        { msg: 'stopped' },
      ]);
    } finally {
      finish();
      await worker.stop({ timeout: 0 });
      await served.stop('SIGKILL');
    }
  });

  it('stops at once on a second SIGTERM; the job it held runs again at the next start', async () => {
    const store = join(state, 'jobs.sqlite');
    const pidFile = join(state, 'geartrain.pid');
    const args = ['--port', '0', '--store', store, '--pid-file', pidFile];
    const served = await serveCommand(args, { env });
    const { handle, finish, worker } = await holdOneJob(served);
    try {
      served.child.kill('SIGTERM');
      await served.waitForLine(/stopping on SIGTERM: waiting up to 30000 ms for 1 running job/);
      served.child.kill('SIGTERM');
      // Before: the second signal was ignored and the server waited the 30 s out.
      expect(await served.exited).toBe(128 + 15);
      expect(served.stdout()).toContain(
        'geartrain stopped at once on a second SIGTERM: 1 running job did not finish\n',
      );
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      finish();
      await worker.stop({ timeout: 0 });
      await served.stop('SIGKILL');
    }
    const again = await serveCommand(args, { env });
    try {
      expect(again.line).toMatch(/, 1 replayed$/);
      const client = createClient({ servers: [again.address] });
      expect((await client.status(handle)).known).toBe(true);
      client.close();
    } finally {
      await again.stop();
    }
  });
});
