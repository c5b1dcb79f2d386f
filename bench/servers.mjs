// Servers and the libgearman load generator, shared by the tcp and client benchmarks.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A process's resident memory (VmRSS), in MiB. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** The jobs a server holds in all, from its admin `status` (the same text for every server). */
export function queuedJobs(port) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      text += chunk;
      if (!text.endsWith('.\n')) return;
      socket.destroy();
      let total = 0;
      for (const line of text.split('\n')) {
        const fields = line.split('\t');
        if (fields.length === 4) total += Number(fields[1]);
      }
      resolve(total);
    });
    socket.once('error', reject);
    socket.write('status\n');
  });
}

/**
 * How each server is started: `geartrain serve`, gearmand with its default options, and
 * gearmand with `--threads=1`.
 */
export const servers = {
  geartrain: (port) =>
    spawn(
      process.execPath,
      [
        join(here, '../packages/cli/bin/geartrain.js'),
        'serve',
        '--port',
        String(port),
        '--log-file',
        'none',
        // No store: gearmand's defaults keep jobs in memory too (bench/store.mjs has the store).
        '--store',
        'memory',
      ],
      { stdio: 'ignore' },
    ),
  gearmand: (port) =>
    spawn('gearmand', ['--listen=127.0.0.1', `--port=${port}`, '--log-file=none'], {
      stdio: 'ignore',
    }),
  // gearmand's fastest setting on a 2-core machine: one I/O thread (no pipe writes between
  // its threads per packet).
  'gearmand-threads1': (port) =>
    spawn('gearmand', ['--listen=127.0.0.1', `--port=${port}`, '--log-file=none', '--threads=1'], {
      stdio: 'ignore',
    }),
};

/**
 * An earlier build of geartrain to measure beside this one: GEARTRAIN_BASELINE names its
 * command (a checkout of the older commit, built): `packages/cli/bin/geartrain.js`, or
 * `packages/tcp/dist/cli.js` in builds from before the command had a package of its own. Benchmarks that
 * compare builds add it as the contender `geartrain-baseline`.
 */
export function baselineServer() {
  const cli = process.env.GEARTRAIN_BASELINE;
  if (cli === undefined || cli === '') return undefined;
  return (port) =>
    spawn(
      process.execPath,
      [cli, 'serve', '--port', String(port), '--log-file', 'none', '--store', 'memory'],
      { stdio: 'ignore' },
    );
}

/**
 * Starts server `name` (a key of `servers`, or a function of the port that spawns one) on a
 * free port, runs `body(port, pid)`, and kills the server.
 */
export async function withServer(name, body, warmUp) {
  const port = await freePort();
  const child = typeof name === 'function' ? name(port) : servers[name](port);
  try {
    await waitForPort(port);
    warmUp?.(port);
    return await body(port, child.pid);
  } finally {
    child.kill('SIGKILL');
  }
}

/** Parses the load generator's `key=value …` line. */
export function parse(line) {
  return Object.fromEntries(
    line
      .trim()
      .split(' ')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/**
 * Builds loadgen/gearman-load.c with cc and libgearman (Debian's libgearman-dev, installed
 * by scripts/install-test-deps.sh); returns the executable's path.
 */
export function buildLoadgen() {
  const loadgen = join(tmpdir(), `gearman-load-${process.pid}`);
  try {
    execFileSync('cc', [
      '-O2',
      '-o',
      loadgen,
      join(here, 'loadgen/gearman-load.c'),
      '-lgearman',
      '-lpthread',
    ]);
  } catch (error) {
    throw new Error(
      'cannot build the load generator (install libgearman-dev: scripts/install-test-deps.sh)',
      { cause: error },
    );
  }
  process.once('exit', () => rmSync(loadgen, { force: true }));
  return loadgen;
}

/** Runs the load generator to completion and parses its figures. */
export function load(loadgen, port, ...args) {
  return parse(
    execFileSync(loadgen, [String(port), ...args.map(String)], {
      encoding: 'utf8',
      timeout: 120_000,
    }),
  );
}

/** Starts `count` libgearman echo workers on `port`; resolves with a function that stops them. */
export async function startWorkers(loadgen, port, count) {
  const child = spawn(loadgen, [String(port), 'workers', String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`workers exited with ${code}`)));
  });
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
  };
}
