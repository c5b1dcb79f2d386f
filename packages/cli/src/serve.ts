import {
  createJobServer,
  type JobServer,
  type JobServerOptions,
  type JobStore,
  type LoggerLike,
} from '@geartrain/core';
import type { QueueBackend } from '@geartrain/core/transport';
import { GearmanServer, VERSION } from '@geartrain/tcp';
import { unlinkSync, writeFileSync } from 'node:fs';
import { constants, hostname } from 'node:os';
import type { ServeSettings } from './args.js';
import {
  applyConfig,
  checkConfig,
  hasSettings,
  NO_CONFIG,
  readConfig,
  type ServeConfig,
} from './config.js';
import { StartFailure, UsageRefusal } from './failures.js';
import { keepYoungGenerationSmall } from './heap.js';
import { openLog } from './log.js';
import { checkBindable, checkPidFile, hostPort } from './preflight.js';
import { openStore, resolveStore, type StoreFile } from './store.js';

interface Dashboard {
  close(): Promise<void>;
  readonly address: { readonly address: string; readonly port: number };
}

/** What a line of the command's own output says goes to stdout, unless -v FATAL. */
type Say = (line: string) => void;

/**
 * `geartrain serve`: checks what is left to check (the config file, the addresses, the pid
 * file), opens the store, listens, and stops on SIGTERM or SIGINT. Every failure is thrown
 * as a {@link UsageRefusal} or a {@link StartFailure}, with nothing left open or written.
 */
export async function runServe(settings: ServeSettings): Promise<void> {
  const say: Say =
    settings.logging.level === 'fatal' ? () => undefined : (line) => void stdout(line);
  const config = settings.configFile === undefined ? NO_CONFIG : loadConfig(settings.configFile);
  const options = jobServerOptions(settings);
  await checkJobServerOptions(options, settings, config);

  const log = await openLog(settings.logging);
  if (keepYoungGenerationSmall()) {
    log.debug?.({ semiSpaceGrowthFactor: 1 }, 'young generation kept at its first size');
  }
  if (settings.threads !== undefined) {
    log.info(
      { threads: settings.threads },
      '--threads is ignored: connections are served on one event loop',
    );
  }
  // Before the store: a start that fails here leaves no store file behind.
  await checkBindable('listen', settings.host, settings.port);
  if (settings.http !== undefined) {
    await checkBindable('serve --http', settings.http.host, settings.http.port);
  }
  if (settings.pidFile !== undefined) checkPidFile(settings.pidFile);

  const { store, queue, where } = await open(settings, log);
  let jobServer: JobServer | undefined;
  let dashboard: Dashboard | null = null;
  const pidFile = settings.pidFile;
  let pidWritten = false;
  const removePidFile = () => {
    if (pidFile === undefined || !pidWritten) return;
    try {
      unlinkSync(pidFile);
    } catch {
      // already gone
    }
  };
  let server: GearmanServer;
  try {
    // A node of a shared queue is named by the address of its Gearman port, as operators
    // know it (`show nodes`, the dashboard); on a port picked at start, by its pid.
    const nodeName = settings.port === 0 ? undefined : `${hostname()}:${settings.port}`;
    jobServer = createJobServer({
      ...options,
      store,
      queue,
      logger: log,
      ...(nodeName === undefined ? {} : { nodeName }),
    });
    await jobServer.ready;
    await applyConfig(jobServer, config, settings.jobPolicies);
    const running = jobServer;
    server = new GearmanServer(jobServer, {
      maxConnections: settings.maxConnections,
      idleTimeout: settings.idleTimeout,
      keepAlive: settings.keepAlive,
      allowRemoteShutdown: settings.allowRemoteShutdown,
      allowRemoteAdmin: settings.allowRemoteAdmin,
      shutdownTimeout: settings.shutdownTimeout,
      verbose: settings.logging.verbose,
      logger: log,
      onShutdown: () => {
        removePidFile();
        stopped(log, say);
        process.exit(0);
      },
    });
    if (settings.http !== undefined) {
      dashboard = await serveDashboard(running, settings);
    }
    // The pid file exists before "listening" is logged, so whoever waits for that line finds it.
    if (pidFile !== undefined) {
      try {
        writeFileSync(pidFile, `${process.pid}\n`);
        pidWritten = true;
      } catch (error) {
        throw new StartFailure(
          `cannot write the pid file ${pidFile}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    try {
      await server.listen({ host: settings.host, port: settings.port });
    } catch (error) {
      throw new StartFailure(
        `cannot listen on ${hostPort(settings.host, settings.port)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  } catch (error) {
    removePidFile();
    await dashboard?.close();
    // Closing the job server closes the store (its lock is released), or the store alone.
    if (jobServer !== undefined) await jobServer.close({ timeout: 0 });
    else await store?.close?.();
    if (error instanceof StartFailure || error instanceof UsageRefusal) throw error;
    throw new StartFailure(messageOf(error), { cause: error });
  }

  const { address, port } = server.address!;
  const queued = (await jobServer.functions()).reduce((sum, f) => sum + f.total, 0);
  // A shared queue's jobs were not replayed by this node: they are the cluster's.
  const counted = queue === null ? 'replayed' : 'queued in the cluster';
  const web =
    dashboard === null
      ? ''
      : `http://${hostPort(dashboard.address.address, dashboard.address.port)}`;
  say(
    `geartrain ${VERSION} listening on ${hostPort(address, port)}; jobs stored in ${where}` +
      `${queued > 0 ? `, ${queued} ${counted}` : ''}` +
      `${web === '' ? '' : `; dashboard on ${web}/, metrics on ${web}/metrics`}`,
  );
  stopOnSignals(jobServer, server, dashboard, settings.shutdownTimeout, log, say, removePidFile);
}

function stdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

function loadConfig(path: string): ServeConfig {
  try {
    return readConfig(path);
  } catch (error) {
    throw new UsageRefusal((error as Error).message);
  }
}

/**
 * The job server's options, from the flags (the store comes later; the settings of functions,
 * from the file and --job-policy, are applied once it is ready: applyConfig).
 */
function jobServerOptions(settings: ServeSettings): JobServerOptions {
  return {
    // gearmand's --job-retries counts attempts (0 = unlimited); maxRetries counts retries.
    maxRetries: settings.jobRetries > 0 ? settings.jobRetries - 1 : Infinity,
    exceptions: settings.exceptions,
    handlePrefix: settings.handlePrefix,
    workerWakeup: settings.workerWakeup,
    wakeTimeout: settings.wakeTimeout,
  };
}

/**
 * Gives the options, the settings of functions (the config file's and the --job-policy
 * flags') and the file's schedules to a job server in memory first, which checks them as the
 * real one will: a value it refuses is a usage error found before the store is opened, with
 * the checks kept in one place (the job server's).
 */
async function checkJobServerOptions(
  options: JobServerOptions,
  settings: ServeSettings,
  config: ServeConfig,
): Promise<void> {
  const flags = settings.jobPolicies;
  if (!hasSettings(config, flags)) return;
  let dry: JobServer;
  try {
    dry = createJobServer({ ...options, releaseMemory: false });
  } catch (error) {
    throw new UsageRefusal((error as Error).message);
  }
  try {
    // checkConfig names the file and entry (or the flag) of a value the server refuses.
    await checkConfig(dry, config, flags, settings.configFile);
  } catch (error) {
    throw new UsageRefusal((error as Error).message);
  } finally {
    await dry.close({ timeout: 0 });
  }
}

/** An error's message, with its cause's when it has one (a database that cannot be reached). */
function messageOf(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && !message.includes(cause.message)
    ? `${message}: ${cause.message}`
    : message;
}

interface Opened {
  readonly store: JobStore | null;
  readonly queue: QueueBackend | null;
  readonly where: string;
}

/** Opens the chosen store; a store that cannot be opened is never replaced by an empty one. */
async function open(settings: ServeSettings, log: LoggerLike): Promise<Opened> {
  const choice = settings.store;
  if (choice.kind === 'memory') {
    return { store: null, queue: null, where: 'memory (jobs are lost at exit)' };
  }
  if (choice.kind === 'postgres') {
    // Loaded only for a shared queue: node-postgres is not needed otherwise. The database
    // is reached when the job server opens (its `ready`).
    const { postgresQueue } = await import('@geartrain/postgres');
    let queue;
    try {
      queue = postgresQueue({ connectionString: choice.connectionString, logger: log });
    } catch (error) {
      throw new UsageRefusal(`--store ${choice.connectionString}: ${(error as Error).message}`);
    }
    return { store: null, queue, where: `PostgreSQL ${queue.target}, shared with other nodes` };
  }
  const file: StoreFile = resolveStore(choice);
  if (file.legacy?.state === 'elsewhere') {
    // Said once: the next start finds this port's own file.
    log.warn({ legacy: file.legacy.path, store: file.path }, 'store of an earlier release found');
    // On stderr: stdout's first line is the one that says where the server listens.
    process.stderr.write(
      `geartrain: ${file.legacy.path} holds the jobs of an earlier geartrain, which kept one ` +
        `store for all ports; the server of port 4730 goes on using it (or start this one ` +
        `with --store ${file.legacy.path}). This one keeps its jobs in ${file.path}.\n`,
    );
  }
  try {
    const store = await openStore(file, log);
    return { store, queue: null, where: `${file.path} (${file.durability})` };
  } catch (error) {
    throw new StartFailure((error as Error).message, { cause: error });
  }
}

async function serveDashboard(jobServer: JobServer, settings: ServeSettings): Promise<Dashboard> {
  const { host, port } = settings.http!;
  // Loaded only when asked for: prom-client is not needed otherwise.
  const { serveDashboard } = await import('@geartrain/dashboard');
  try {
    return await serveDashboard(jobServer, { host, port, token: settings.dashboardToken });
  } catch (error) {
    throw new StartFailure(
      `cannot serve --http on ${hostPort(host, port)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function stopped(log: LoggerLike, say: Say): void {
  log.info({}, 'stopped');
  say('geartrain stopped');
}

/** How many jobs run now, or null when the job server cannot say (it is closing). */
async function runningJobs(jobServer: JobServer): Promise<number | null> {
  try {
    return (await jobServer.functions()).reduce((sum, f) => sum + f.running, 0);
  } catch {
    return null;
  }
}

/**
 * SIGTERM and SIGINT stop gracefully: no new jobs, running ones get `timeout` ms, then
 * connections close. The command says how many jobs it waits for, then that it stopped,
 * where it said it was listening. A second signal stops at once (exit 128 + its number,
 * as a shell reports a process a signal ended): running background jobs stay in the store
 * and run again at the next start, as after a crash.
 */
function stopOnSignals(
  jobServer: JobServer,
  server: GearmanServer,
  dashboard: Dashboard | null,
  timeout: number,
  log: LoggerLike,
  say: Say,
  removePidFile: () => void,
): void {
  let stopping = false;
  const stop = async (signal: 'SIGTERM' | 'SIGINT') => {
    // Decided before the count is asked for: a second signal stops at once, whenever.
    const again = stopping;
    stopping = true;
    const running = await runningJobs(jobServer);
    if (again) {
      log.warn({ signal, running }, 'stopping at once');
      say(
        `geartrain stopped at once on a second ${signal}` +
          (running !== 0 ? `: ${jobsText(running)} did not finish` : ''),
      );
      removePidFile();
      process.exit(128 + constants.signals[signal]);
    }
    log.info({ signal, running, timeout }, 'stopping');
    say(
      running === 0
        ? `geartrain stopping on ${signal}: no job running`
        : `geartrain stopping on ${signal}: waiting up to ${timeout} ms for ` +
            `${jobsText(running)} to finish (${signal} again stops at once)`,
    );
    await jobServer.close({ timeout });
    await server.close();
    await dashboard?.close();
    removePidFile();
    stopped(log, say);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGPIPE', () => undefined);
  // A closed stdout (`geartrain serve | head -1`) must not stop the server.
  process.stdout.on('error', () => undefined);
}

function jobsText(n: number | null): string {
  return n === null ? 'the running jobs' : `${n} running job${n === 1 ? '' : 's'}`;
}
