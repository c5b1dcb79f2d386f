import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgres, type PostgresBinaries } from './binaries.js';

export interface StartPostgresOptions {
  /**
   * `max_connections`; default 200: three nodes' pools plus their LISTEN and liveness sessions,
   * and a bench's peers beside them, with room to spare.
   */
  readonly maxConnections?: number;
  /** More server settings, each passed as `-c name=value`. */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** How long one start may take before it fails, in ms (default 30 s). */
  readonly startTimeout?: number;
}

/** Which client backends `terminateBackends` ends; every field given must match. */
export interface BackendFilter {
  readonly pid?: number;
  readonly applicationName?: string;
  readonly database?: string;
  readonly user?: string;
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** `postgres://USER@HOST:PORT/DATABASE` (trust authentication: no password). */
  readonly connectionString: string;
  /** The temporary folder: the cluster in `data/`, the Unix socket beside it. */
  readonly dir: string;
  readonly major: number;
  /** The postmaster's PID (a new one after `restart()`). */
  readonly pid: number;
  readonly running: boolean;
  /** Stops the server as `stop()` does, keeping its files, and starts it on the same port. */
  restart(): Promise<void>;
  /**
   * Sends `signal` to the postmaster. For SIGINT (fast shutdown), SIGQUIT (immediate) and
   * SIGKILL it resolves once the postmaster and its backends have exited; for others at once.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Fast shutdown by PID, waits for the exit, removes the folder. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Ends the client backends that match with `pg_terminate_backend(pid, 5000)`, which waits
   * for each to exit (PostgreSQL 14+); resolves with the PIDs it ended.
   */
  terminateBackends(filter?: BackendFilter): Promise<number[]>;
  /** Runs SQL with `psql` (unaligned, tuples only) and resolves with its output, trimmed. */
  psql(sql: string): Promise<string>;
  /** The server's recent log (its stderr), for failure messages. */
  log(): string;
}

const HOST = '127.0.0.1';
const USER = 'postgres';
const DATABASE = 'postgres';
const LOG_LIMIT = 64 * 1024;
/** Whether setpriv can tie the postmaster's life to this process (Linux, util-linux). */
const PDEATHSIG =
  process.platform === 'linux' &&
  spawnSync('setpriv', ['--pdeathsig', 'QUIT', '--', 'true']).status === 0;

/** Servers still running, stopped by an exit hook if a test run ends without `stop()`. */
const live = new Map<number, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    // Synchronous only: an immediate shutdown, a bounded wait for it, then the folder.
    for (const pid of live.keys()) {
      try {
        process.kill(pid, 'SIGQUIT');
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 3000;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while ([...live.keys()].some(alive) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 10);
    for (const dir of live.values()) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // left in the temporary folder
      }
    }
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true once `child` has exited, false after `timeout` ms. */
async function exitWithin(child: ChildProcess, exited: Promise<unknown>, timeout: number) {
  if (!isRunning(child)) return true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeout, false)));
  const done = await Promise.race([exited.then(() => true), timedOut]);
  clearTimeout(timer);
  return done;
}

/** Whether `pid` still runs. A zombie does not: an orphan waits for init to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat'); // off Linux: kill(0) is all there is
  }
}

/**
 * The postmaster's children (backends, checkpointer, ...), read from /proc: after a SIGKILL
 * of the postmaster they outlive it until they notice, and a new postmaster on the same
 * folder refuses to start while they hold the old shared memory. Empty off Linux.
 */
function childrenOf(pid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

async function waitGone(pids: number[], timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      // Ours (started by our postmaster), stuck: end them rather than leave them behind.
      for (const pid of left) process.kill(pid, 'SIGKILL');
      return;
    }
    await sleep(20);
  }
}

/** The uid and gid of the `postgres` user, when this process runs as root. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      `initdb and postgres refuse to run as root, and there is no '${USER}' user to run them ` +
        `as (Debian's postgresql package creates it: run scripts/install-test-deps.sh)`,
    );
  }
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** Runs a program to completion within `timeout` ms; rejects with its output on failure. */
async function runToEnd(
  command: string,
  args: string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; timeout: number },
): Promise<string> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const closed = once(child, 'close');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout);
  const [code, signal] = (await closed) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (code !== 0) {
    const how = signal === 'SIGKILL' ? `killed after ${options.timeout} ms` : `exit ${code}`;
    throw new Error(`${command} ${args.join(' ')}: ${how}\n${err}${out}`);
  }
  return out;
}

/** Quotes a string as an SQL literal (standard_conforming_strings is on by default). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Starts a throwaway PostgreSQL: `initdb` into a new temporary folder, then `postgres` on a
 * free loopback port with fsync and synchronous commit on, resolving once it accepts
 * connections. As root, both run as the `postgres` user (they refuse root), with the folder
 * given to that user. The caller must `stop()` it, in `afterAll` or a `finally`.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binaries = findPostgres();
  if (binaries === undefined) {
    throw new Error('PostgreSQL 14 or newer not found: run scripts/install-test-deps.sh');
  }
  const identity = serverIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-pg-'));
  installExitHook();
  try {
    if (identity !== undefined) {
      chownSync(dir, identity.uid, identity.gid);
      // mkdtemp made it 0700: the postgres user also needs to reach it through every parent.
      const reach = spawnSync('test', ['-w', dir], identity);
      if (reach.status !== 0) {
        throw new Error(`the ${USER} user cannot write ${dir}: point TMPDIR somewhere it can`);
      }
    }
    await runToEnd(
      join(binaries.bin, 'initdb'),
      // --no-sync: the cluster is thrown away; the server itself runs with fsync on.
      ['-D', join(dir, 'data'), '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C'].concat([
        '--no-sync',
        '--no-instructions',
      ]),
      { ...identity, timeout: 60_000 },
    );
    const server = new Server(binaries, dir, await freePort(), identity, options);
    await server.start();
    return server;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

class Server implements PostgresServer {
  readonly host = HOST;
  readonly user = USER;
  readonly database = DATABASE;
  readonly connectionString: string;
  readonly major: number;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> = Promise.resolve();
  #log = '';
  #removed = false;

  constructor(
    private readonly binaries: PostgresBinaries,
    readonly dir: string,
    readonly port: number,
    private readonly identity: { uid: number; gid: number } | undefined,
    private readonly options: StartPostgresOptions,
  ) {
    this.major = binaries.major;
    this.connectionString = `postgres://${USER}@${HOST}:${port}/${DATABASE}`;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  get running(): boolean {
    return this.#child !== undefined && isRunning(this.#child);
  }

  log(): string {
    return this.#log;
  }

  /** Starts the postmaster and waits until it accepts connections. */
  async start(): Promise<void> {
    const timeout = this.options.startTimeout ?? 30_000;
    const deadline = Date.now() + timeout;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#startOnce(deadline);
      if (result === 'ready') return;
      // After a SIGKILL, an old backend may still hold the old shared memory for a moment.
      const retry = /pre-existing shared memory block/.test(this.#log) && Date.now() < deadline;
      if (!retry || attempt >= 100) {
        throw new Error(`postgres did not start (${result}) on port ${this.port}:\n${this.#log}`);
      }
      await sleep(50);
    }
  }

  async #startOnce(deadline: number): Promise<string> {
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: HOST,
      fsync: 'on',
      synchronous_commit: 'on',
      max_connections: this.options.maxConnections ?? 200,
      // Crash recovery first fsyncs every file of the cluster, which initdb --no-sync left
      // unsynced: seconds on a busy disk. One syncfs() of the file system takes ~0.2 s here.
      ...(process.platform === 'linux' ? { recovery_init_sync_method: 'syncfs' } : {}),
      ...this.options.settings,
    };
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const postgres = join(this.binaries.bin, 'postgres');
    // If this process dies without stopping it (a SIGKILL, a CI timeout), the kernel sends
    // the postmaster SIGQUIT, an immediate shutdown. setpriv (util-linux) sets that, then
    // execs postgres: the PID stays the postmaster's.
    const [command, commandArgs] = PDEATHSIG
      ? ['setpriv', ['--pdeathsig', 'QUIT', '--', postgres, ...args]]
      : [postgres, args];
    const child = spawn(command, commandArgs, {
      ...this.identity,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = once(child, 'exit').catch(() => undefined);
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-LOG_LIMIT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (child.pid !== undefined) live.set(child.pid, this.dir);
    void this.#exited.then(() => live.delete(child.pid!));
    // The postmaster writes "ready" as the last line of postmaster.pid once it accepts
    // connections: what `pg_ctl start -w` waits for (PostgreSQL 10+).
    const pidFile = join(this.dir, 'data', 'postmaster.pid');
    for (;;) {
      if (!isRunning(child)) return `exited with ${child.exitCode ?? child.signalCode}`;
      try {
        const lines = readFileSync(pidFile, 'utf8').split('\n');
        if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return 'ready';
      } catch {
        // not written yet
      }
      if (Date.now() > deadline) {
        await this.#halt();
        return 'timed out';
      }
      await sleep(20);
    }
  }

  /** Stops the postmaster by PID: SIGINT, then SIGQUIT, then SIGKILL, each bounded. */
  async #halt(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !isRunning(child)) return;
    for (const [signal, wait] of [
      ['SIGINT', 20_000],
      ['SIGQUIT', 5_000],
      ['SIGKILL', 5_000],
    ] as const) {
      const children = childrenOf(child.pid!);
      child.kill(signal);
      child.kill('SIGCONT'); // a postmaster stopped by a test's SIGSTOP takes no other signal
      if (await exitWithin(child, this.#exited, wait)) {
        await waitGone(children, 10_000);
        return;
      }
    }
    throw new Error(`postgres (PID ${child.pid}) did not exit after SIGKILL`);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || !isRunning(child)) return;
    const children = childrenOf(child.pid!);
    child.kill(signal);
    if (!['SIGINT', 'SIGQUIT', 'SIGKILL'].includes(signal)) return;
    if (!(await exitWithin(child, this.#exited, 20_000))) {
      throw new Error(`postgres (PID ${child.pid}) did not exit on ${signal}`);
    }
    await waitGone(children, 10_000);
  }

  async restart(): Promise<void> {
    if (this.#removed) throw new Error('restart() after stop(): the cluster is gone');
    await this.#halt();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.#halt();
    if (!this.#removed) {
      this.#removed = true;
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  async psql(sql: string): Promise<string> {
    // Only our own PG* settings: a developer's PGDATABASE or PGOPTIONS must not leak in.
    const env: NodeJS.ProcessEnv = { PGAPPNAME: 'geartrain-test-harness', PGCONNECT_TIMEOUT: '5' };
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith('PG')) env[name] = value;
    }
    const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', HOST];
    args.push('-p', String(this.port), '-U', USER, '-d', DATABASE, '-c', sql);
    const out = await runToEnd(join(this.binaries.bin, 'psql'), args, { env, timeout: 15_000 });
    return out.trim();
  }

  async terminateBackends(filter: BackendFilter = {}): Promise<number[]> {
    const where = ["backend_type = 'client backend'", 'pid <> pg_backend_pid()'];
    if (filter.pid !== undefined) where.push(`pid = ${Math.trunc(filter.pid)}`);
    if (filter.applicationName !== undefined) {
      where.push(`application_name = ${literal(filter.applicationName)}`);
    }
    if (filter.database !== undefined) where.push(`datname = ${literal(filter.database)}`);
    if (filter.user !== undefined) where.push(`usename = ${literal(filter.user)}`);
    const out = await this.psql(
      `select pid from (select pid, pg_terminate_backend(pid, 5000) as ended ` +
        `from pg_stat_activity where ${where.join(' and ')}) as t where ended`,
    );
    return out === '' ? [] : out.split('\n').map(Number);
  }
}
