import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { background, describeOnBothServers, run } from './support/interop.js';

const dir = fileURLToPath(new URL('./interop/', import.meta.url));

/** Perl's Gearman::Client and Gearman::Worker against geartrain and gearmand side by side. */
describeOnBothServers(['perl'], 'Perl client and worker', (server) => {
  it('runs a round trip, a task set and a background job', async () => {
    // Perl's worker sends SET_CLIENT_ID, CAN_DO and plain GRAB_JOB (reference §7.5).
    const worker = background('perl', ['worker.pl', String(server().port), '5'], dir);
    try {
      const result = await run('perl', ['client.pl', String(server().port)], {
        cwd: dir,
        timeout: 20_000,
      });
      expect(result.stderr).toBe('');
      expect(result.stdout.toString()).toBe(
        'do_task olleh\ntaskset alpha=ALPHA\ntaskset beta=BETA\ntaskset gamma=GAMMA\nbackground handle\n',
      );
      // The background job is worked too: the worker stops after its fifth job.
      await worker.exited;
    } finally {
      await worker.stop();
    }
  });

  it('keeps jobs moving when workers registered by a parent are left asleep by killed children', async () => {
    // Gearman::Worker's own t/20 and t/25 (issue 11): 25 rounds, each a worker registered in
    // the parent, a forked child working one job, the child killed. Every dead child leaves
    // a sleeping worker that never answers; with geartrain's old wake rule the next round's
    // job went to it and waited for ever. A job waiting over 5 s fails the run.
    const rounds = 25;
    const result = await run(
      'perl',
      ['fork-worker.pl', String(server().port), String(rounds), '5'],
      {
        cwd: dir,
        timeout: 60_000,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe(
      Array.from({ length: rounds }, (_, i) => `round ${i + 1}: ok\n`).join(''),
    );
    expect(result.code).toBe(0);
  });

  it('gives the client an empty result when a Perl worker returns "" or 0', async () => {
    // Gearman::Worker sends WORK_COMPLETE with a bare handle for these. gearmand closes the
    // worker's connection, the job runs again and again, and the client never hears back.
    const worker = background('perl', ['worker.pl', String(server().port), '1000'], dir);
    try {
      const result = await run('perl', ['empty-client.pl', String(server().port), '2'], {
        cwd: dir,
        timeout: 20_000,
      });
      expect(result.stdout.toString()).toBe(
        server().name === 'geartrain' ? 'empty=[]\nzero=[]\n' : 'empty=undef\nzero=undef\n',
      );
    } finally {
      await worker.stop();
    }
  });
});
