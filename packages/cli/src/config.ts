import type { FunctionLimits, JobPolicy, JobServer, ScheduleOptions } from '@geartrain/core';
import { readFileSync } from 'node:fs';

/**
 * `geartrain serve --config FILE` (the root README's "Configuration file"): a JSON file with what a server of this deployment runs
 * with, by function and by schedule id:
 *
 * ```json
 * {
 *   "jobPolicies": { "charge": { "attempts": 3, "backoff": { "type": "exponential", "delay": 1000 } } },
 *   "limits": { "charge": { "rate": { "max": 10, "duration": 1000 }, "concurrency": 5 } },
 *   "schedules": { "nightly": { "cron": "0 0 3 * * *", "timezone": "Europe/Berlin", "functionName": "report" } }
 * }
 * ```
 *
 * The file's limits replace those the store kept for the same functions; its schedules are
 * defined at every start (one whose timing is unchanged keeps its last tick); pauses, and
 * schedules added through the admin port, stay as the store kept them.
 */
export interface ServeConfig {
  readonly jobPolicies: Readonly<Record<string, JobPolicy>>;
  readonly limits: Readonly<Record<string, FunctionLimits>>;
  readonly schedules: Readonly<Record<string, ScheduleOptions>>;
}

const SECTIONS = ['jobPolicies', 'limits', 'schedules'];

function table(value: unknown, where: string): Record<string, never> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be an object of names to settings`);
  }
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`${where}.${name} must be an object`);
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
      jobPolicies: table(sections['jobPolicies'], 'jobPolicies'),
      limits: table(sections['limits'], 'limits'),
      schedules,
    };
  } catch (error) {
    throw new Error(`config ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Applies a config's limits and schedules to a server whose store was replayed. */
export async function applyConfig(server: JobServer, config: ServeConfig): Promise<void> {
  for (const [name, limits] of Object.entries(config.limits)) {
    try {
      await server.setFunctionLimits(name, limits);
    } catch (error) {
      throw new Error(`config limits.${name}: ${(error as Error).message}`, { cause: error });
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
