// What the fresh-clone and packed-install tests share: npm run as a user runs it, with the
// registry unreachable. npm's cache (filled by the repository's own `npm ci`) is the only
// source of packages. npm keys its cache by the registry's URL, so the registry setting
// stays as it is and the way out is closed instead: npm's proxy is a loopback server that
// records every request and forwards none, so a command that reaches for the registry fails
// its test instead of passing on a machine that happens to be online.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A proxy that lets nothing through: every request is recorded and refused. */
export interface Tripwire {
  readonly url: string;
  /** `METHOD target` of every request received (CONNECT host:443 for https). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startTripwire(): Promise<Tripwire> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('no network in this test\n');
  });
  server.on('connect', (req, socket) => {
    requests.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 503 No network in this test\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** npm's cache folder, as npm itself reports it (npm test passes it down as npm_config_cache). */
function npmCache(): string {
  const fromParent = process.env['npm_config_cache'];
  if (fromParent !== undefined && fromParent !== '') return fromParent;
  const result = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm config get cache: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * The environment of a user's shell on this machine, with the network closed (npm's proxy is
 * the tripwire, and no host bypasses it): what the
 * test runner and a parent `npm run` put in the environment is left out (npm_config_*,
 * npm_package_*, INIT_CWD, NODE_ENV, VITEST*), npm's cache is the one the repository's
 * `npm ci` filled, and native modules build against the headers of the Node that runs the
 * test (its install prefix; Debian's /usr, or the Node 24 of scripts/on-node.sh).
 */
export function userEnv(proxy: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const cache = npmCache();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(npm_|INIT_CWD$|NODE_ENV$|VITEST|TEST$|NODE_OPTIONS$|(https?|no|all)_proxy$)/i.test(key)
    ) {
      continue;
    }
    env[key] = value;
  }
  const prefix = dirname(dirname(process.execPath));
  Object.assign(env, {
    PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
    npm_config_proxy: proxy,
    npm_config_https_proxy: proxy,
    npm_config_noproxy: '',
    // A request that slips out fails at once instead of after npm's retries.
    npm_config_fetch_retries: '0',
    npm_config_cache: cache,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...(existsSync(join(prefix, 'include', 'node', 'node.h'))
      ? { npm_config_nodedir: prefix }
      : {}),
    ...extra,
  });
  return env;
}

/**
 * Puts the SQLite binding the repository's `npm ci` built (better-sqlite3, for this Node's
 * ABI) where prebuild-install looks before it downloads or compiles: a `prebuilds` folder
 * named in a `.prebuild-installrc` in `dir`, which the install scripts of any project under
 * `dir` find (rc reads the file from their folder upwards). An install under `dir` then
 * takes seconds instead of the minute and a half of compiling SQLite. It is what a user's
 * install downloads from the project's GitHub releases, which this machine cannot reach; if
 * the binding here is not for this Node, nothing is written and the install compiles.
 */
export function provideSqlitePrebuild(dir: string): void {
  const pkgDir = join(repoRoot, 'node_modules', 'better-sqlite3');
  const binding = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binding)) return;
  const loads = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(binding)})`]);
  if (loads.status !== 0) return;
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const prebuilds = join(dir, 'prebuilds');
  const stage = join(prebuilds, 'stage');
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
  writeFileSync(join(stage, 'build', 'Release', 'better_sqlite3.node'), readFileSync(binding));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tar = spawnSync('tar', ['czf', join(prebuilds, name), '-C', stage, 'build']);
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr.toString()}`);
  writeFileSync(join(dir, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
}

export interface Ran {
  readonly code: number | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

/** Runs a command to its end, killed (its process group) after `timeout` ms. */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number; shell?: boolean },
): Promise<Ran> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    shell: options.shell ?? false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeout);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  if (timedOut) output += `\n[killed after ${options.timeout} ms]`;
  return { code, output };
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function mustRun(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number; shell?: boolean },
): Promise<string> {
  const ran = await runCommand(command, args, options);
  if (ran.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${ran.code}:\n${ran.output}`);
  }
  return ran.output;
}

/** Signals the process group a detached child leads (npm and the node it starts). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone.
  }
}

/** True while a process of the group the child led is alive. */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server command started in the background; `stop()` ends it by its PID. */
export interface Started {
  /** The line that said it listens. */
  readonly line: string;
  output(): string;
  /** SIGTERM to its process group, then SIGKILL after `timeout` ms; resolves with its exit. */
  stop(timeout?: number): Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    /** Whether a process of its group was still alive at the deadline (then killed). */
    lingering: boolean;
  }>;
}

/**
 * Starts a command that runs a server and waits (at most `timeout` ms) for a line of its
 * output that matches `listening`. It runs in a process group of its own, so that `npm
 * start` and the node it starts are stopped together by the group's PID.
 */
export async function startServerCommand(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number; shell?: boolean },
  listening = /listening on \S+/,
): Promise<Started> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    shell: options.shell ?? false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`no "listening" line in ${options.timeout} ms:\n${output}`));
    }, options.timeout);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = output.split('\n').find((l) => listening.test(l));
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return {
    line,
    output: () => output,
    async stop(timeout = 10_000) {
      killGroup(child, 'SIGTERM');
      const deadline = Date.now() + timeout;
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeout);
      const [code, signal] = await exited;
      // npm start's node may outlive npm by a moment: wait for the whole group.
      while (groupAlive(child) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      clearTimeout(timer);
      const lingering = groupAlive(child);
      if (lingering) killGroup(child, 'SIGKILL');
      return { code, signal, lingering };
    },
  };
}

/** Sends one admin command (`version`, `status`) and resolves with the reply's first line. */
export async function adminLine(port: number, command: string, timeout = 5000): Promise<string> {
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to "${command}"`)), timeout);
      let text = '';
      socket.on('data', (chunk: string) => {
        text += chunk;
        const end = text.indexOf('\n');
        if (end >= 0) {
          clearTimeout(timer);
          resolve(text.slice(0, end));
        }
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.write(`${command}\n`);
    });
  } finally {
    socket.destroy();
  }
}

/** The `npm warn` lines of an install's output. */
export function npmWarnings(output: string): string[] {
  return output.split('\n').filter((line) => /^npm (warn|WARN)/.test(line));
}
