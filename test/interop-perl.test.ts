import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { serveCommand, type ServedCommand } from './support/command.js';
import {
  background,
  describeOnBothServers,
  describeWithTools,
  freePort,
  run,
} from './support/interop.js';

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

describeWithTools(['perl'], 'Perl client and worker against several geartrain servers', () => {
  it('serves a client and a worker of three `geartrain serve`, each on its own default store', async () => {
    // Gearman's own t/02-client.t, t/03-worker.t and t/05-taskset.t start two or three
    // servers with their defaults. Before: the second refused to start, the default store
    // (one file for every server of a user) being in use by the first.
    const state = mkdtempSync(join(tmpdir(), 'geartrain-perl-servers-'));
    const env = { ...process.env, XDG_STATE_HOME: state };
    const servers: ServedCommand[] = [];
    try {
      for (const prefix of ['S1', 'S2', 'S3']) {
        const port = String(await freePort());
        const args = ['--port', port, '--job-handle-prefix', prefix, '--log-file', 'none'];
        servers.push(await serveCommand(args, { env }));
      }
      const ports = servers.map((s) => s.port).join(',');
      const jobs = 30;
      // It stays for the status the client asks at the end: stopped by the test.
      const worker = background('perl', ['worker.pl', ports, '1000'], dir);
      try {
        const result = await run('perl', ['several-servers.pl', ports, String(jobs)], {
          cwd: dir,
          timeout: 30_000,
        });
        expect(result.stderr).toBe('');
        expect(result.stdout.toString()).toBe(
          `${jobs} of ${jobs} results right\nserved by S1 S2 S3\nthe worker on 3 of 3 servers\n`,
        );
      } finally {
        await worker.stop();
      }
    } finally {
      for (const server of servers) await server.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
