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
});
