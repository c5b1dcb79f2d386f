import type { JobPolicy } from '@geartrain/core';
import { DEFAULT_HOST, DEFAULT_PORT, parseAddress, parsePolicy } from '@geartrain/tcp';
import { UsageRefusal } from './failures.js';
import { readOptions, suggestion, type OptionValues } from './options.js';
import { storeChoice, type StoreChoice } from './store.js';

/** gearmand's verbose levels, and pino's level for each. */
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

/** The longest delay a Node timer keeps (a longer one fires after 1 ms, with a warning). */
const MAX_MS = 2 ** 31 - 1;

/** Where the JSON log goes: a file, stderr, or nowhere. */
export type LogTarget = 'stderr' | 'none' | { readonly file: string };

export interface Logging {
  /** gearmand's name of the level, upper case (what the `verbose` admin command says). */
  readonly verbose: string;
  /** pino's name of the level. */
  readonly level: string;
  readonly target: LogTarget;
}

/** Everything `geartrain serve` runs with, checked. */
export interface ServeSettings {
  readonly host: string;
  readonly port: number;
  /** gearmand's --job-retries: attempts, 0 for no limit. */
  readonly jobRetries: number;
  readonly exceptions: boolean;
  readonly workerWakeup: number | undefined;
  readonly wakeTimeout: number | undefined;
  readonly handlePrefix: string | undefined;
  /** The --job-policy flags, by function (they win over the config file's). */
  readonly jobPolicies: Readonly<Record<string, JobPolicy>>;
  readonly configFile: string | undefined;
  readonly http: { readonly host: string; readonly port: number } | undefined;
  /** From GEARTRAIN_DASHBOARD_TOKEN: a flag would show in `ps`. */
  readonly dashboardToken: string | undefined;
  readonly store: StoreChoice;
  readonly maxConnections: number | undefined;
  readonly idleTimeout: number | undefined;
  readonly keepAlive: boolean;
  readonly allowRemoteShutdown: boolean;
  readonly allowRemoteAdmin: boolean;
  readonly shutdownTimeout: number;
  readonly logging: Logging;
  readonly pidFile: string | undefined;
  /** gearmand's --threads, accepted and ignored (it is logged). */
  readonly threads: number | undefined;
}

/** Everything `geartrain import-gearmand` runs with, checked. */
export interface ImportSettings {
  readonly queueFile: string;
  readonly table: string | undefined;
  readonly handlePrefix: string | undefined;
  readonly store: Extract<StoreChoice, { kind: 'file' | 'default' }>;
  readonly logging: Logging;
}

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help'; readonly topic: 'serve' | 'import-gearmand' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly settings: ServeSettings }
  | { readonly kind: 'import-gearmand'; readonly settings: ImportSettings };

/** Arguments the command refuses; it prints the message and exits 2. */
export interface UsageError {
  readonly kind: 'usage-error';
  readonly message: string;
}

const COMMANDS = ['serve', 'import-gearmand'] as const;

/**
 * Reads the command line and the environment into what to run, checking every option
 * before anything is opened, bound or created. Pure: it reads no file and changes nothing.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Command | UsageError {
  try {
    return parse(argv, env);
  } catch (error) {
    if (error instanceof UsageRefusal) return { kind: 'usage-error', message: error.message };
    throw error;
  }
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const { values, positionals } = readOptions(argv);
  const command = positionals[0] ?? 'serve';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageRefusal(`unknown command '${command}'${suggestion(command, COMMANDS)}`);
  }
  if (values.help === true) {
    return { kind: 'help', topic: command as (typeof COMMANDS)[number] };
  }
  if (values.version === true) return { kind: 'version' };
  const extra = positionals.slice(command === 'serve' ? 1 : 2);
  if (extra.length > 0) throw new UsageRefusal(`unexpected argument '${extra[0]}'`);
  if (command === 'import-gearmand') return importCommand(values, positionals[1], env);
  return { kind: 'serve', settings: serveSettings(values, env) };
}

function serveSettings(values: OptionValues, env: NodeJS.ProcessEnv): ServeSettings {
  const logging = loggingOf(values);
  const listen = address('--listen', values.listen ?? DEFAULT_HOST);
  const port =
    portOf('--port', values.port) ??
    listen.port ??
    portOf('GEARMAND_PORT', env['GEARMAND_PORT']) ??
    DEFAULT_PORT;
  let http: ServeSettings['http'];
  if (values.http !== undefined) {
    const parsed = address('--http', values.http);
    if (parsed.port === undefined) {
      throw new UsageRefusal(`--http needs HOST:PORT, not '${values.http}'`);
    }
    http = { host: parsed.host, port: parsed.port };
  }
  const store = storeChoice(values, port, env);
  if (typeof store === 'string') throw new UsageRefusal(store);
  const dashboardToken = env['GEARTRAIN_DASHBOARD_TOKEN'];
  return {
    host: listen.host,
    port,
    jobRetries: whole('--job-retries', values['job-retries'], 0) ?? 0,
    exceptions: values.exceptions === true,
    workerWakeup: whole('--worker-wakeup', values['worker-wakeup'], 0),
    wakeTimeout: whole('--wake-timeout', values['wake-timeout'], 1, MAX_MS),
    handlePrefix: handlePrefix(values['job-handle-prefix']),
    jobPolicies: jobPolicies(values['job-policy'] ?? []),
    configFile: path('--config', values.config),
    http,
    dashboardToken: dashboardToken === '' ? undefined : dashboardToken,
    store,
    maxConnections: whole('--max-connections', values['max-connections'], 1),
    idleTimeout: whole('--idle-timeout', values['idle-timeout'], 0, MAX_MS),
    keepAlive: values.keepalive === true,
    allowRemoteShutdown: values['allow-remote-shutdown'] === true,
    allowRemoteAdmin: values['allow-remote-admin'] === true,
    shutdownTimeout: whole('--shutdown-timeout', values['shutdown-timeout'], 0, MAX_MS) ?? 30_000,
    logging,
    pidFile: path('--pid-file', values['pid-file']),
    threads: whole('--threads', values.threads, 0),
  };
}

function importCommand(
  values: OptionValues,
  queueFile: string | undefined,
  env: NodeJS.ProcessEnv,
): Command {
  if (queueFile === undefined || queueFile === '') {
    throw new UsageRefusal('import-gearmand needs the gearmand queue file');
  }
  const port =
    portOf('--port', values.port) ?? portOf('GEARMAND_PORT', env['GEARMAND_PORT']) ?? DEFAULT_PORT;
  const store = storeChoice(values, port, env);
  if (typeof store === 'string') throw new UsageRefusal(store);
  if (store.kind === 'memory' || store.kind === 'postgres') {
    throw new UsageRefusal(`import-gearmand needs a store file, not ${store.kind}`);
  }
  return {
    kind: 'import-gearmand',
    settings: {
      queueFile,
      table: values.table === '' ? undefined : values.table,
      handlePrefix: handlePrefix(values['job-handle-prefix']),
      store,
      logging: loggingOf(values),
    },
  };
}

function loggingOf(values: OptionValues): Logging {
  const verbose = (values.verbose ?? 'ERROR').toUpperCase();
  const level = LEVELS[verbose];
  if (level === undefined) {
    throw new UsageRefusal(
      `unknown verbose level '${values.verbose}' (${Object.keys(LEVELS).join(', ')})`,
    );
  }
  const file = path('--log-file', values['log-file']) ?? 'stderr';
  const target = file === 'stderr' || file === 'none' ? file : { file };
  return { verbose, level, target };
}

/** A whole number from `min` to `max`, or undefined when not given. */
function whole(
  name: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new UsageRefusal(`${name} needs a whole number, not '${value}'`);
  const n = Number(value);
  if (n < min) throw new UsageRefusal(`${name} needs a whole number ≥ ${min}, not '${value}'`);
  if (n > max) throw new UsageRefusal(`${name} needs a whole number ≤ ${max}, not '${value}'`);
  return n;
}

/** A TCP port, or undefined when not given. */
function portOf(name: string, value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return whole(name, value, 0);
  const n = Number(value);
  if (n > 65535 || n < 0) {
    throw new UsageRefusal(`${name} needs a whole number from 0 to 65535, not '${value}'`);
  }
  return n;
}

function address(name: string, text: string): { host: string; port: number | undefined } {
  let parsed;
  try {
    parsed = parseAddress(text);
  } catch {
    throw new UsageRefusal(`${name} needs HOST, HOST:PORT or [IPV6]:PORT, not '${text}'`);
  }
  if (parsed.host === '') throw new UsageRefusal(`${name} needs an address, not '${text}'`);
  return parsed;
}

/** A file path option: not empty when given. */
function path(name: string, value: string | undefined): string | undefined {
  if (value === '') throw new UsageRefusal(`${name} needs a file path`);
  return value;
}

function handlePrefix(value: string | undefined): string | undefined {
  // A handle is one token on the admin port (`cancel job H`) and a C string on the wire.
  if (value !== undefined && !/^[^\s\0]+$/.test(value)) {
    throw new UsageRefusal(`--job-handle-prefix needs one word without spaces, not '${value}'`);
  }
  return value;
}

/** --job-policy 'FN SETTINGS', by function; a later flag for one function wins. */
function jobPolicies(texts: readonly string[]): Record<string, JobPolicy> {
  const policies: Record<string, JobPolicy> = {};
  for (const text of texts) {
    const [functionName, ...settings] = text.trim().split(/\s+/);
    const policy = parsePolicy(settings);
    if (functionName === undefined || functionName === '' || policy === null) {
      throw new UsageRefusal(
        `--job-policy needs 'FUNCTION SETTINGS' (attempts=N, keep-failed=N, …), not '${text}'`,
      );
    }
    if (typeof policy === 'string')
      throw new UsageRefusal(`--job-policy ${functionName}: ${policy}`);
    policies[functionName] = policy;
  }
  return policies;
}
