import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGeartrain, serveCommand } from './support/command.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-cli-errors-'));
  dirs.push(dir);
  return dir;
}

/** An environment whose default stores go under a new, empty folder. */
function stateFolder(): { env: NodeJS.ProcessEnv; state: string } {
  const state = folder();
  return { env: { ...process.env, XDG_STATE_HOME: state }, state };
}

/** A loopback port held by another listener until `release()`. */
async function portInUse(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  return {
    port: (holder.address() as { port: number }).port,
    release: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}

/**
 * Makes a folder read-only for this process: by its mode, or, for root (whom modes do not
 * stop), by mounting it read-only over itself.
 */
function makeReadOnly(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
  return () => execFileSync('umount', [dir]);
}

describe('geartrain serve: start failures', () => {
  it('checks every option before the store: a bad --port is reported, not the store in use', async () => {
    const { env, state } = stateFolder();
    const file = join(state, 'held.sqlite');
    const holder = await serveCommand(['--port', '0', '--store', file], { env });
    try {
      // Before: "held.sqlite is in use by another geartrain server", exit 1.
      const refused = await runGeartrain(['serve', '--store', file, '--port', '99999'], env);
      expect([refused.code, refused.stderr]).toEqual([
        2,
        "geartrain: --port needs a whole number from 0 to 65535, not '99999'\nTry 'geartrain --help'.\n",
      ]);
    } finally {
      await holder.stop();
    }
  });

  it('leaves no store file behind when it does not start', async () => {
    const { env, state } = stateFolder();
    const config = join(folder(), 'bad.json');
    writeFileSync(config, JSON.stringify({ limits: { charge: { concurrency: -1 } } }));
    const busy = await portInUse();
    try {
      for (const [args, code] of [
        [['--port', '99999'], 2],
        [['--config', config, '--port', '0'], 2],
        [['--port', String(busy.port)], 1],
        [['--port', '0', '--pid-file', join(state, 'no', 'such', 'folder', 'x.pid')], 1],
        [['--port', '0', '--http', `127.0.0.1:${busy.port}`], 1],
      ] as const) {
        const refused = await runGeartrain(['serve', ...args], env);
        expect(refused.code, refused.stderr).toBe(code);
        // Before: the default folder and an empty jobs.sqlite were made, then the start failed.
        expect(readdirSync(state), args.join(' ')).toEqual([]);
      }
    } finally {
      await busy.release();
    }
  });

  it('says "geartrain: …" once and exits 1 for what fails at run time, with no stack and no --help', async () => {
    const { env } = stateFolder();
    const busy = await portInUse();
    try {
      // Before: a JSON log line with the stack came first, then exit 2 and the --help line.
      const inUse = await runGeartrain(
        ['serve', '--store', 'memory', '--port', String(busy.port)],
        env,
      );
      expect([inUse.code, inUse.stderr]).toEqual([
        1,
        `geartrain: cannot listen on 127.0.0.1:${busy.port}: the port is in use (another server listens there)\n`,
      ]);
    } finally {
      await busy.release();
    }
    const unknownHost = await runGeartrain(
      ['serve', '--store', 'memory', '--listen', 'no-such-host.invalid'],
      env,
    );
    expect([unknownHost.code, unknownHost.stderr]).toEqual([
      1,
      'geartrain: cannot listen on no-such-host.invalid:4730: the name does not resolve to an address\n',
    ]);
  });

  it('refuses a pid file it cannot write with a message, not a stack trace', async () => {
    const { env } = stateFolder();
    const dir = folder();
    for (const [pidFile, reason] of [
      [join(dir, 'missing', 'geartrain.pid'), `the folder ${join(dir, 'missing')} does not exist`],
      [dir, 'it is a folder'],
    ] as const) {
      // Before: an uncaught ENOENT with its stack, from writeFileSync.
      const refused = await runGeartrain(
        ['serve', '--store', 'memory', '--port', '0', '--pid-file', pidFile],
        env,
      );
      expect([refused.code, refused.stderr]).toEqual([
        1,
        `geartrain: cannot write the pid file ${pidFile}: ${reason}\n`,
      ]);
    }
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly);
    const restore = makeReadOnly(readOnly);
    try {
      const pidFile = join(readOnly, 'geartrain.pid');
      const refused = await runGeartrain(
        ['serve', '--store', 'memory', '--port', '0', '--pid-file', pidFile],
        env,
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^geartrain: cannot write the pid file \S+: the folder \S+ (is on a read-only file system \(EROFS\)|cannot be written \(EACCES\))\n$/,
      );
    } finally {
      restore();
    }
  });

  it('says which of folder, missing folder or read-only folder a --store path is', async () => {
    const { env } = stateFolder();
    const dir = folder();
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly);
    const cases = [
      [dir, `${dir} is a folder: give the path of a file, such as ${join(dir, 'jobs.sqlite')}`],
      [join(dir, 'missing', 'jobs.sqlite'), `the folder ${join(dir, 'missing')} does not exist`],
      [
        join(readOnly, 'jobs.sqlite'),
        `the folder ${readOnly} (is on a read-only file system \\(EROFS\\)|cannot be written \\(EACCES\\))`,
      ],
    ] as const;
    const restore = makeReadOnly(readOnly);
    try {
      for (const [path, reason] of cases) {
        // Before: each said "unable to open database file".
        const refused = await runGeartrain(['serve', '--port', '0', '--store', path], env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(
          new RegExp(`^geartrain: cannot open the store ${path}: ${reason}`),
        );
      }
    } finally {
      restore();
    }
  });

  it('names the section of the README that --help points to, and that section exists', async () => {
    const help = (await runGeartrain(['--help'])).stdout.toString();
    expect(help).toContain('section "Configuration file" of README.md');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/^## Configuration file$/m);
    expect(help).toMatch(/--allow-remote-admin {4}accept geartrain's admin commands/);
    expect(existsSync(new URL('../packages/cli/README.md', import.meta.url))).toBe(true);
  });
});
