import { createClient } from '@geartrain/client';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGeartrain, serveCommand, type ServedCommand } from './support/command.js';
import { freePort } from './support/interop.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An environment whose default stores go under a new folder of this test. */
function stateFolder(): { env: NodeJS.ProcessEnv; stores: string } {
  const state = mkdtempSync(join(tmpdir(), 'geartrain-cli-store-'));
  dirs.push(state);
  const stores = join(state, 'geartrain');
  mkdirSync(stores);
  return { env: { ...process.env, XDG_STATE_HOME: state }, stores };
}

async function submitLater(address: string, unique: string): Promise<string> {
  const client = createClient({ servers: [address] });
  try {
    return (await client.submit('later', unique, { background: true, unique })).handle;
  } finally {
    client.close();
  }
}

async function known(address: string, handle: string): Promise<boolean> {
  const client = createClient({ servers: [address] });
  try {
    return (await client.status(handle)).known;
  } finally {
    client.close();
  }
}

/**
 * A loopback address other than 127.0.0.1 where port 4730 is free, so that a test can
 * serve on the default port beside a server already there (Linux routes all of 127/8 to
 * the loopback interface). Tries at most 20 addresses.
 */
async function loopbackWithDefaultPortFree(): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const host = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const probe = createServer();
    probe.listen(4730, host);
    const free = await Promise.race([
      once(probe, 'listening').then(() => true),
      once(probe, 'error').then(() => false),
    ]);
    if (free) {
      await new Promise((resolve) => probe.close(resolve));
      return host;
    }
  }
  throw new Error('no loopback address with port 4730 free');
}

describe('the default store: one file per port', () => {
  it('runs servers on two ports side by side, each finding its jobs again after a restart', async () => {
    const { env, stores } = stateFolder();
    // Handles of their own: both number their jobs from 1.
    const argsA = ['--port', String(await freePort()), '--job-handle-prefix', 'A'];
    const argsB = ['--port', String(await freePort()), '--job-handle-prefix', 'B'];
    const [portA, portB] = [argsA[1], argsB[1]];
    let a: ServedCommand | undefined = await serveCommand(argsA, { env });
    let b: ServedCommand | undefined;
    try {
      // Before: the second server refused to start, its default store being the first's.
      b = await serveCommand(argsB, { env });
      const fileA = join(stores, `jobs-${portA}.sqlite`);
      const fileB = join(stores, `jobs-${portB}.sqlite`);
      expect(a.line).toContain(`jobs stored in ${fileA} (process-crash)`);
      expect(b.line).toContain(`jobs stored in ${fileB} (process-crash)`);
      const jobA = await submitLater(a.address, 'on-a');
      const jobB = await submitLater(b.address, 'on-b');
      // Killed, as a crash: what was acknowledged is in each port's file.
      await a.stop('SIGKILL');
      await b.stop('SIGKILL');
      a = await serveCommand(argsA, { env });
      b = await serveCommand(argsB, { env });
      expect(a.line).toMatch(/, 1 replayed$/);
      expect(b.line).toMatch(/, 1 replayed$/);
      expect(await known(a.address, jobA)).toBe(true);
      expect(await known(b.address, jobB)).toBe(true);
      expect(await known(a.address, jobB)).toBe(false);
    } finally {
      await a?.stop();
      await b?.stop();
    }
  });

  it('refuses a second server on a store file in use, whatever its port', async () => {
    const { env, stores } = stateFolder();
    const file = join(stores, 'shared.sqlite');
    const first = await serveCommand(['--port', '0', '--store', file], { env });
    try {
      const second = await runGeartrain(['serve', '--port', '0', '--store', file], env);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        /^geartrain: \S+shared\.sqlite is in use by another geartrain server/,
      );
      expect(second.stderr).not.toContain('--help');
    } finally {
      await first.stop();
    }
  });

  it("keeps the jobs of the earlier releases' single jobs.sqlite: the port 4730 server goes on using it", async () => {
    const { env, stores } = stateFolder();
    const legacy = join(stores, 'jobs.sqlite');
    // What 0.1.0 left: one default file, holding a queued job.
    const old = await serveCommand(['--port', '0', '--store', legacy], { env });
    const job = await submitLater(old.address, 'from-before');
    await old.stop();

    const host = await loopbackWithDefaultPortFree();
    let served = await serveCommand(['--listen', host], { env });
    try {
      expect(served.line).toContain(`listening on ${host}:4730; jobs stored in ${legacy} `);
      expect(served.line).toMatch(/, 1 replayed$/);
      expect(await known(served.address, job)).toBe(true);
    } finally {
      await served.stop();
    }
    expect(existsSync(join(stores, 'jobs-4730.sqlite'))).toBe(false);

    // Another port makes its own file, and says once where the earlier jobs are.
    const port = await freePort();
    served = await serveCommand(['--port', String(port)], { env });
    try {
      expect(served.line).toContain(`jobs stored in ${join(stores, `jobs-${port}.sqlite`)} `);
      expect(served.stderr()).toContain(
        `geartrain: ${legacy} holds the jobs of an earlier geartrain`,
      );
    } finally {
      await served.stop();
    }
    served = await serveCommand(['--port', String(port)], { env });
    try {
      expect(served.stderr()).toBe('');
    } finally {
      await served.stop();
    }
  });
});
