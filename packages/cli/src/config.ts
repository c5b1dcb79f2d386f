import type {
  FunctionLimits,
  JobPolicy,
  JobServer,
  ScheduleOptions,
  SettingsChanges,
} from '@geartrain/core';
import { readFileSync } from 'node:fs';

/**
 * `geartrain serve --config FILE` (the root README's "Configuration file"): a JSON file with
 * what a server of this deployment runs with, by function and by schedule id:
 *
 * ```json
 * {
 *   "functions": { "charge": { "attempts": 3, "backoff": 1000, "concurrency": 5, "maxQueue": 10000 } },
 *   "jobPolicies": { "mail": { "attempts": 3, "backoff": { "type": "exponential", "delay": 1000 } } },
 *   "limits": { "mail": { "rate": { "max": 10, "duration": 1000 }, "concurrency": 5 } },
 *   "schedules": { "nightly": { "cron": "0 0 3 * * *", "timezone": "Europe/Berlin", "functionName": "report" } }
 * }
 * ```
 *
 * Each function's settings from the file (`functions`, and the older `jobPolicies` and
 * `limits`) and the `--job-policy` flags are merged into one record and applied in one
 * `configure` call per function (see `settingsOf`); its schedules are defined at every start
 * (one whose timing is unchanged keeps its last tick); schedules added through the admin
 * port stay as the store kept them.
 */
export interface ServeConfig {
  /** Settings by function, as `configure` takes them: those left out stay as stored. */
  readonly functions: Readonly<Record<string, SettingsChanges>>;
  /** Policies by function, as `setJobPolicy` takes them: each replaces the whole policy. */
  readonly jobPolicies: Readonly<Record<string, JobPolicy>>;
  /** Limits by function, as `setFunctionLimits` takes them: each replaces both limits. */
  readonly limits: Readonly<Record<string, FunctionLimits>>;
  readonly schedules: Readonly<Record<string, ScheduleOptions>>;
}

export const NO_CONFIG: ServeConfig = { functions: {}, jobPolicies: {}, limits: {}, schedules: {} };

const SECTIONS = ['functions', 'jobPolicies', 'limits', 'schedules'];
/** The settings an entry of the older sections may hold (`functions` entries: see configure). */
const POLICY_SETTINGS = ['attempts', 'backoff', 'keep'];
const LIMIT_SETTINGS = ['rate', 'concurrency'];

function table(value: unknown, where: string, settings?: readonly string[]): Record<string, never> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be an object of names to settings`);
  }
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`${where}.${name} must be an object`);
    }
    for (const key of Object.keys(entry)) {
      if (settings !== undefined && !settings.includes(key)) {
        throw new Error(`${where}.${name}: unknown setting '${key}' (${settings.join(', ')})`);
      }
    }
  }
  return value as Record<string, never>;
}

/**
 * Reads and checks the shape of a config file (the values are checked by the server).
 * @throws Error with a message naming the file and what is wrong
 */
export function readConfig(path: string): ServeConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`config ${path}: ${why}`, { cause: error });
  }
  try {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the file must hold one JSON object');
    }
    for (const key of Object.keys(parsed)) {
      if (!SECTIONS.includes(key)) {
        throw new Error(`unknown section '${key}' (${SECTIONS.join(', ')})`);
      }
    }
    const sections = parsed as Record<string, unknown>;
    const schedules = table(sections['schedules'], 'schedules');
    for (const [id, options] of Object.entries(schedules)) {
      if (typeof (options as { functionName?: unknown }).functionName !== 'string') {
        throw new Error(`schedules.${id} needs a functionName`);
      }
    }
    return {
      functions: table(sections['functions'], 'functions'),
      jobPolicies: table(sections['jobPolicies'], 'jobPolicies', POLICY_SETTINGS),
      limits: table(sections['limits'], 'limits', LIMIT_SETTINGS),
      schedules,
    };
  } catch (error) {
    throw new Error(`config ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** One source of a function's settings: a section's entry, or a flag. */
interface SettingsSource {
  readonly functionName: string;
  /** Where it was given, for errors: `limits.charge`, `--job-policy charge`. */
  readonly path: string;
  readonly fromFile: boolean;
  readonly changes: SettingsChanges;
}

/** A policy as changes: it replaces the whole policy (what it leaves out is put back). */
function policyChanges(policy: JobPolicy): SettingsChanges {
  return {
    attempts: policy.attempts ?? null,
    backoff: policy.backoff ?? null,
    keep: policy.keep ?? null,
  };
}

/**
 * Every source of settings, in the order they are merged: the older sections first, then
 * `functions` (a setting it names wins over theirs), then the flags (a flag wins over the file).
 */
function sources(config: ServeConfig, flags: Readonly<Record<string, JobPolicy>>) {
  const all: SettingsSource[] = [];
  const add = (path: string, fromFile: boolean, name: string, changes: SettingsChanges) =>
    all.push({ functionName: name, path: `${path}${name}`, fromFile, changes });
  for (const [name, policy] of Object.entries(config.jobPolicies)) {
    add('jobPolicies.', true, name, policyChanges(policy));
  }
  for (const [name, limits] of Object.entries(config.limits)) {
    add('limits.', true, name, {
      rate: limits.rate ?? null,
      concurrency: limits.concurrency ?? null,
    });
  }
  for (const [name, changes] of Object.entries(config.functions)) {
    add('functions.', true, name, changes);
  }
  for (const [name, policy] of Object.entries(flags)) {
    add('--job-policy ', false, name, policyChanges(policy));
  }
  return all;
}

/** Each function's settings from the file and the flags, merged into one record's changes. */
export function settingsOf(
  config: ServeConfig,
  flags: Readonly<Record<string, JobPolicy>>,
): Map<string, SettingsChanges> {
  const merged = new Map<string, SettingsChanges>();
  for (const { functionName, changes } of sources(config, flags)) {
    merged.set(functionName, { ...merged.get(functionName), ...changes });
  }
  return merged;
}

/** Whether the file or the flags set anything. */
export function hasSettings(config: ServeConfig, flags: Readonly<Record<string, JobPolicy>>) {
  return sources(config, flags).length > 0 || Object.keys(config.schedules).length > 0;
}

/** A refusal of the job server, named by where the value came from. */
function located(path: string, error: unknown): string {
  const message = (error as Error).message;
  // configure names what it refuses from `settings`: `settings.keep.failed.count …`.
  return message.startsWith('settings.')
    ? `${path}${message.slice('settings'.length)}`
    : `${path}: ${message}`;
}

/**
 * Gives each source of settings, and the schedules, to a job server in memory (not the one
 * that serves), which checks them as `configure` and `schedule` do: the first it refuses is
 * thrown, named by the file (`configFile`) and its entry, or by its flag.
 */
export async function checkConfig(
  dry: JobServer,
  config: ServeConfig,
  flags: Readonly<Record<string, JobPolicy>>,
  configFile: string | undefined,
): Promise<void> {
  const inFile = `config ${configFile ?? ''}: `;
  for (const source of sources(config, flags)) {
    try {
      await dry.configure(source.functionName, source.changes);
    } catch (error) {
      const where = located(source.path, error);
      throw new Error(source.fromFile ? `${inFile}${where}` : where, { cause: error });
    }
  }
  for (const [id, options] of Object.entries(config.schedules)) {
    try {
      await dry.schedule(id, options);
    } catch (error) {
      throw new Error(`${inFile}schedules.${id}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Applies the config to a server whose store was replayed: one `configure` per function (its
 * settings from the file and the flags, as one record's changes), then the schedules.
 */
export async function applyConfig(
  server: JobServer,
  config: ServeConfig,
  flags: Readonly<Record<string, JobPolicy>>,
): Promise<void> {
  for (const [name, changes] of settingsOf(config, flags)) {
    try {
      await server.configure(name, changes);
    } catch (error) {
      throw new Error(`settings of ${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  for (const [id, options] of Object.entries(config.schedules)) {
    try {
      await server.schedule(id, options);
    } catch (error) {
      throw new Error(`config schedules.${id}: ${(error as Error).message}`, { cause: error });
    }
  }
}
