#!/usr/bin/env node
import { createJobServer, type JobPolicy, type JobServer, type LoggerLike } from '@geartrain/core';
import { unlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAddress } from '@geartrain/protocol';
import { DEFAULT_HOST, DEFAULT_PORT, GearmanServer, VERSION } from './server.js';
import { openStore, STORE_HELP, STORE_OPTIONS, storeChoice } from './cli-store.js';
import { IMPORT_HELP, importCommand } from './cli-import.js';
import { parsePolicy } from './policy-text.js';
import { applyConfig, readConfig, type ServeConfig } from './cli-config.js';
import { keepYoungGenerationSmall } from './cli-heap.js';

const HELP = `geartrain ${VERSION} — a Gearman job server in Node.js

Usage: geartrain serve [options]
       geartrain import-gearmand QUEUE_FILE [--store PATH]   (see import-gearmand --help)

  -L, --listen ADDRESS        address to bind (default ${DEFAULT_HOST}); ::1 or [::1] for
                              IPv6, HOST:PORT or [V6]:PORT also give the port
  -p, --port PORT             port (default ${DEFAULT_PORT}, or $GEARMAND_PORT)
  -j, --job-retries N         attempts before a job whose workers keep dying fails
                              (0 = unlimited, as gearmand)
      --exceptions            every connection receives WORK_EXCEPTION without asking
  -w, --worker-wakeup N       sleeping workers woken (NOOP) per queued job: 1 (default),
                              or 0 for every sleeper of the function, as gearmand's default
      --wake-timeout MS       a woken worker that has not asked for work after MS ms
                              while jobs wait makes every sleeper wake (default 100)
      --job-handle-prefix P   handles are P:<n> (default H:<hostname>)
      --job-policy 'FN attempts=N[,backoff=fixed|exponential][,delay=MS][,max=MS][,jitter=0..1]
                   [,keep-completed=N|all][,keep-completed-age=MS][,keep-failed=N|all]
                   [,keep-failed-age=MS]'
                              retries for the jobs of FN, whoever submits them, and what is
                              kept of them once ended (repeatable; also the admin command
                              "policy FN ...")
      --http HOST:PORT        serve the live dashboard page at http://HOST:PORT/ and
                              Prometheus metrics at /metrics (@geartrain/dashboard); its
                              actions need GEARTRAIN_DASHBOARD_TOKEN in the environment
      --config FILE           a JSON file of jobPolicies, limits (rate, concurrency) and
                              schedules by name; see the README ("Configuration file")
${STORE_HELP}      --max-connections N     refuse connections beyond N
      --idle-timeout MS       close connections silent for MS milliseconds
      --keepalive             TCP keepalive on accepted connections
      --allow-remote-shutdown accept the shutdown admin command from other hosts
      --shutdown-timeout MS   how long running jobs may finish on SIGTERM/SIGINT and on
                              "shutdown graceful" (default 30000)
  -v, --verbose LEVEL         FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG
                              (default ERROR); also what the verbose admin command says
  -l, --log-file FILE         where the JSON log goes: a file, "stderr" (default) or "none"
  -P, --pid-file FILE         write the process id to FILE (removed at exit)
  -t, --threads N             accepted for gearmand compatibility and ignored: geartrain
                              serves every connection on one event loop; run CPU-heavy
                              handlers in worker threads with @geartrain/threads
  -h, --help                  this text
      --version               print the version

SIGTERM and SIGINT stop the server gracefully: no new jobs, running ones finish (up to
--shutdown-timeout), then connections close. Background jobs stay in the store for the
next start; foreground jobs are never stored (their clients went with the connection).
`;

const LEVELS: Record<string, string> = {
  FATAL: 'fatal',
  ALERT: 'fatal',
  CRITICAL: 'fatal',
  ERROR: 'error',
  WARNING: 'warn',
  NOTICE: 'info',
  INFO: 'info',
  DEBUG: 'debug',
};

/** A failure of the work itself (a store that cannot be used), not of the arguments: exit 1. */
function giveUp(error: unknown): never {
  process.stderr.write(`geartrain: ${(error as Error).message}\n`);
  process.exit(1);
}

function fail(message: string): never {
  process.stderr.write(`geartrain: ${message}\nTry 'geartrain --help'.\n`);
  process.exit(2);
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) fail(`${name} needs a whole number, not '${value}'`);
  return Number(value);
}

function atLeast(min: number, value: string | undefined, name: string): number | undefined {
  const n = integer(value, name);
  if (n !== undefined && n < min) fail(`${name} needs a whole number ≥ ${min}, not '${value}'`);
  return n;
}

const SILENT: LoggerLike = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * pino is loaded only when something is logged: it is a third of what the command imports,
 * and test harnesses that start a server per test run it with the log off (decision 18).
 */
async function logger(destination: string, level: string): Promise<LoggerLike> {
  if (destination === 'none') return SILENT;
  const { pino } = await import('pino');
  const target = destination === 'stderr' ? 2 : destination;
  const log: LoggerLike = pino(
    { level, base: { pid: process.pid } },
    pino.destination({ dest: target, sync: true }),
  );
  return log;
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        listen: { type: 'string', short: 'L' },
        port: { type: 'string', short: 'p' },
        'job-retries': { type: 'string', short: 'j' },
        exceptions: { type: 'boolean' },
        'worker-wakeup': { type: 'string', short: 'w' },
        'wake-timeout': { type: 'string' },
        'job-handle-prefix': { type: 'string' },
        'max-connections': { type: 'string' },
        'idle-timeout': { type: 'string' },
        keepalive: { type: 'boolean' },
        'allow-remote-shutdown': { type: 'boolean' },
        'shutdown-timeout': { type: 'string' },
        verbose: { type: 'string', short: 'v' },
        'log-file': { type: 'string', short: 'l' },
        'pid-file': { type: 'string', short: 'P' },
        threads: { type: 'string', short: 't' },
        table: { type: 'string' },
        'job-policy': { type: 'string', multiple: true },
        config: { type: 'string' },
        http: { type: 'string' },
        ...STORE_OPTIONS,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'serve';
  if (values.help === true) {
    process.stdout.write(command === 'import-gearmand' ? IMPORT_HELP : HELP);
    return;
  }
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const known = command === 'serve' || command === 'import-gearmand';
  if (!known || positionals.length > (command === 'serve' ? 1 : 2))
    fail(`unknown command '${positionals.join(' ')}'`);
  const choice = storeChoice(values);
  if (typeof choice === 'string') fail(choice);

  const verbose = (values.verbose ?? 'ERROR').toUpperCase();
  const level = LEVELS[verbose];
  if (level === undefined) fail(`unknown verbose level '${values.verbose}'`);
  const log = await logger(values['log-file'] ?? 'stderr', level);

  if (command === 'import-gearmand') {
    const queueFile = positionals[1];
    if (queueFile === undefined) fail('import-gearmand needs the gearmand queue file');
    try {
      const line = await importCommand(
        queueFile,
        choice,
        { table: values.table, handlePrefix: values['job-handle-prefix'] },
        log,
      );
      process.stdout.write(`${line}\n`);
    } catch (error) {
      giveUp(error);
    }
    return;
  }

  if (keepYoungGenerationSmall()) {
    log.debug?.({ semiSpaceGrowthFactor: 1 }, 'young generation kept at its first size');
  }
  const listen = parseAddress(values.listen ?? DEFAULT_HOST);
  const port =
    integer(values.port, '--port') ??
    listen.port ??
    integer(process.env['GEARMAND_PORT'], 'GEARMAND_PORT') ??
    DEFAULT_PORT;
  const retries = integer(values['job-retries'], '--job-retries') ?? 0;
  const threads = integer(values.threads, '--threads');
  if (threads !== undefined) {
    log.info({ threads }, '--threads is ignored: connections are served on one event loop');
  }
  const shutdownTimeout = integer(values['shutdown-timeout'], '--shutdown-timeout') ?? 30_000;

  let config: ServeConfig = { jobPolicies: {}, limits: {}, schedules: {} };
  if (values.config !== undefined) {
    try {
      config = readConfig(values.config);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  // --job-policy flags come after the file's policies: a flag wins over the file.
  const jobPolicies: Record<string, JobPolicy> = { ...config.jobPolicies };
  for (const text of values['job-policy'] ?? []) {
    const [functionName, ...settings] = text.trim().split(/\s+/);
    const policy = parsePolicy(settings);
    if (functionName === undefined || functionName === '' || policy === null) {
      fail(`--job-policy needs 'FUNCTION SETTINGS' (attempts=N, keep-failed=N, …), not '${text}'`);
    }
    if (typeof policy === 'string') fail(`--job-policy ${functionName}: ${policy}`);
    jobPolicies[functionName] = policy;
  }

  let opened;
  try {
    opened = await openStore(choice, log);
  } catch (error) {
    // A store that cannot be opened is never replaced by an empty one: the server stops.
    giveUp(error);
  }
  let jobServer: JobServer;
  try {
    jobServer = createJobServer({
      store: opened.store,
      jobPolicies,
      // gearmand's --job-retries counts attempts (0 = unlimited); maxRetries counts retries.
      maxRetries: retries > 0 ? retries - 1 : Infinity,
      exceptions: values.exceptions === true,
      handlePrefix: values['job-handle-prefix'],
      workerWakeup: atLeast(0, values['worker-wakeup'], '--worker-wakeup'),
      wakeTimeout: atLeast(1, values['wake-timeout'], '--wake-timeout'),
      logger: log,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'STORE_OPEN_FAILED') {
      // Found while reading the jobs back (a damaged page): the file is left as it is.
      giveUp(error);
    }
    fail((error as Error).message);
  }
  try {
    await jobServer.ready;
    await applyConfig(jobServer, config);
  } catch (error) {
    await jobServer.close({ timeout: 0 });
    if ((error as { code?: string }).code === 'STORE_OPEN_FAILED') giveUp(error);
    fail((error as Error).message);
  }
  const pidFile = values['pid-file'];
  const removePidFile = () => {
    if (pidFile === undefined) return;
    try {
      unlinkSync(pidFile);
    } catch {
      // already gone
    }
  };
  const server = new GearmanServer(jobServer, {
    maxConnections: integer(values['max-connections'], '--max-connections'),
    idleTimeout: integer(values['idle-timeout'], '--idle-timeout'),
    keepAlive: values.keepalive === true,
    allowRemoteShutdown: values['allow-remote-shutdown'] === true,
    shutdownTimeout,
    verbose,
    logger: log,
    onShutdown: () => {
      removePidFile();
      process.exit(0);
    },
  });

  let dashboard: { close(): Promise<void>; address: { address: string; port: number } } | null =
    null;
  if (values.http !== undefined) {
    const http = parseAddress(values.http);
    if (http.port === undefined) fail(`--http needs HOST:PORT, not '${values.http}'`);
    // Loaded only when asked for: prom-client is not needed otherwise.
    const { serveDashboard } = await import('@geartrain/dashboard');
    try {
      // The token comes from the environment, not a flag: a flag shows in `ps`.
      const token = process.env.GEARTRAIN_DASHBOARD_TOKEN;
      dashboard = await serveDashboard(jobServer, { host: http.host, port: http.port, token });
    } catch (error) {
      fail(`cannot serve --http on ${values.http}: ${(error as Error).message}`);
    }
  }
  // The pid file exists before "listening" is logged, so whoever waits for that line finds it.
  if (pidFile !== undefined) writeFileSync(pidFile, `${process.pid}\n`);
  try {
    await server.listen({ host: listen.host, port });
  } catch (error) {
    removePidFile();
    fail(`cannot listen on ${listen.host}:${port}: ${(error as Error).message}`);
  }
  if (level !== 'fatal') {
    const { address, port: bound } = server.address!;
    const host = address.includes(':') ? `[${address}]` : address;
    const queued = jobServer.functions().reduce((sum, f) => sum + f.total, 0);
    const web =
      dashboard === null
        ? ''
        : `http://${dashboard.address.address.includes(':') ? `[${dashboard.address.address}]` : dashboard.address.address}:${dashboard.address.port}`;
    const metrics = web === '' ? '' : `; dashboard on ${web}/, metrics on ${web}/metrics`;
    process.stdout.write(
      `geartrain ${VERSION} listening on ${host}:${bound}; jobs stored in ${opened.where}` +
        `${queued > 0 ? `, ${queued} replayed` : ''}${metrics}\n`,
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void (async () => {
      await jobServer.close({ timeout: shutdownTimeout });
      await server.close();
      await dashboard?.close();
      removePidFile();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => undefined);
}

await main(process.argv.slice(2));
