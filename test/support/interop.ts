import { createJobServer, type JobServerOptions, type JobServer } from '@geartrain/core';
import { serve, type GearmanServer } from '@geartrain/tcp';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'vitest';

/** True under CI, where a missing tool is a failure, not a skip. */
export const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

export function haveTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/**
 * `describe` that needs real programs. Without them the suite is skipped locally and fails
 * under CI (scripts/install-test-deps.sh installs them).
 */
export function describeWithTools(tools: string[], name: string, body: () => void): void {
  const missing = tools.filter((tool) => !haveTool(tool));
  if (missing.length === 0) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => {
      it('has the programs it needs', () => {
        throw new Error(`missing ${missing.join(', ')}: run scripts/install-test-deps.sh`);
      });
    });
  } else {
    describe.skip(`${name} (missing ${missing.join(', ')})`, body);
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Gearman server under test: geartrain in this process or gearmand as a child. */
export interface TestServer {
  readonly name: 'geartrain' | 'gearmand';
  readonly port: number;
  /** geartrain's job server (undefined for gearmand). */
  readonly jobServer?: JobServer;
  stop(): Promise<void>;
  /** Stops as a crash would: connections drop, no job is told anything. */
  crash(): Promise<void>;
}

export async function startGeartrain(
  options: JobServerOptions = {},
  listenPort = 0,
): Promise<TestServer> {
  const jobServer = createJobServer(options);
  const tcp: GearmanServer = await serve(jobServer, { host: '127.0.0.1', port: listenPort });
  return {
    name: 'geartrain',
    port: tcp.address!.port,
    jobServer,
    async stop() {
      await jobServer.close({ timeout: 0 });
      await tcp.close({ timeout: 0 });
    },
    async crash() {
      await tcp.close({ timeout: 0 });
      await jobServer.close({ timeout: 0 });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gearmand exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('gearmand did not start listening');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the reference gearmand on a free loopback port (or on `port`). */
export async function startGearmand(args: string[] = [], port?: number): Promise<TestServer> {
  port ??= await freePort();
  const child = spawn(
    'gearmand',
    ['--listen=127.0.0.1', `--port=${port}`, '--log-file=none', '--threads=1', ...args],
    { stdio: 'ignore' },
  );
  await waitForPort(port, child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  return { name: 'gearmand', port, stop, crash: stop };
}

/** Starts a server of the kind given on `port` (0 or absent: a free port). */
export function startServer(kind: 'geartrain' | 'gearmand', port?: number): Promise<TestServer> {
  return kind === 'geartrain' ? startGeartrain({}, port ?? 0) : startGearmand([], port);
}

/** Waits until `test` holds, checking every 10 ms for at most `timeout` ms. */
export async function eventually(test: () => boolean, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RunResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number | null;
}

/** Runs a program to completion (killed after `timeout` ms), feeding `input` on stdin. */
export async function run(
  command: string,
  args: string[],
  options: {
    input?: string | Buffer;
    timeout?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<RunResult> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 15_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString(), code };
}

/** Starts a long-running program (a worker); `stop()` kills it if it is still running. */
export function background(command: string, args: string[], cwd?: string) {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
  const exited = once(child, 'exit');
  return {
    output: () => Buffer.concat(out).toString(),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Replaces gearmand's and geartrain's host-specific handles with `H:N`. */
export function normalizeHandles(text: string): string {
  return text.replace(/H:[^\s:]+:(\d+)/g, 'H:$1');
}

/**
 * Runs the same suite against geartrain and against the reference gearmand, each started
 * fresh before every test: the two must agree except where a test says why they differ.
 * `server()` returns the one the current test runs against.
 */
export function describeOnBothServers(
  tools: string[],
  title: string,
  body: (server: () => TestServer) => void,
): void {
  for (const start of [startGeartrain, startGearmand]) {
    const name = start === startGeartrain ? 'geartrain' : 'gearmand';
    describeWithTools([...tools, 'gearmand'], `${title} against ${name}`, () => {
      let current: TestServer | undefined;
      beforeEach(async () => {
        current = await start();
      });
      afterEach(async () => {
        await current?.stop();
        current = undefined;
      });
      body(() => current!);
    });
  }
}
