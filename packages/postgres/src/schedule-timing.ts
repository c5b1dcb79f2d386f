import { Cron } from 'croner';
import {
  InvalidArgumentError,
  type CatchUp,
  type Priority,
  type ScheduleOptions,
} from '@geartrain/core';
import { checkName, checkOptions, knownKeys } from '@geartrain/core/transport';

// A schedule's definition and its ticks, as core's schedules read them (cron through croner:
// five fields, or six with seconds first, in a zone, default UTC; or every N ms since the
// definition).

export interface Definition {
  readonly id: string;
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string | null;
  readonly functionName: string;
  readonly payload: Buffer;
  readonly priority: Priority;
  readonly unique: string;
  readonly catchUp: CatchUp;
}

const KEYS = knownKeys<ScheduleOptions>({
  cron: true,
  every: true,
  timezone: true,
  functionName: true,
  payload: true,
  priority: true,
  unique: true,
  catchUp: true,
});

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const CATCH_UPS: readonly CatchUp[] = ['none', 'latest', 'all'];
/** The widest a tick's time is in the unique id (ms since 1970, up to the year 2286). */
const TICK_DIGITS = 13;

const parsed = new Map<string, Cron>();

function cronOf(expression: string, timezone: string | null): Cron {
  const zone = timezone ?? 'UTC';
  const key = `${zone}\n${expression}`;
  let cron = parsed.get(key);
  if (cron === undefined) {
    cron = new Cron(expression, { timezone: zone, paused: true });
    if (parsed.size >= 16) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, cron);
  }
  return cron;
}

/**
 * A schedule's options checked, as the job server checks its own.
 * @throws InvalidArgumentError
 */
export function definitionOf(
  id: string,
  options: ScheduleOptions,
  maxUniqueLength: number,
): Definition {
  checkName(id, 'schedule id');
  if (id === '') throw new InvalidArgumentError('a schedule needs an id');
  if (options === undefined) throw new InvalidArgumentError('schedule options must be an object');
  checkOptions(options, 'schedule options', KEYS);
  checkName(options.functionName, 'function name');
  if (options.functionName === '') throw new InvalidArgumentError('a schedule needs a function');
  const priority = options.priority ?? 'normal';
  if (!PRIORITIES.includes(priority)) {
    throw new InvalidArgumentError(`priority must be high, normal or low, not '${priority}'`);
  }
  const catchUp = options.catchUp ?? 'latest';
  if (!CATCH_UPS.includes(catchUp)) {
    throw new InvalidArgumentError(`catchUp must be none, latest or all, not '${catchUp}'`);
  }
  const unique = options.unique ?? id;
  checkName(unique, 'unique id');
  if (Buffer.byteLength(unique) + 1 + TICK_DIGITS > maxUniqueLength) {
    throw new InvalidArgumentError(
      `the unique id of a schedule's ticks (<unique>:<tick ms>) must fit ${maxUniqueLength} bytes`,
    );
  }
  const cron = options.cron ?? null;
  const every = options.every ?? null;
  const timezone = options.timezone ?? null;
  if ((cron === null) === (every === null)) {
    throw new InvalidArgumentError('a schedule has either cron or every');
  }
  if (every !== null) {
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new InvalidArgumentError('every must be a whole number of ms ≥ 1');
    }
    if (timezone !== null) throw new InvalidArgumentError('timezone applies to cron only');
  } else {
    if (typeof cron !== 'string') throw new InvalidArgumentError('cron must be a string');
    try {
      cronOf(cron, timezone);
    } catch (error) {
      throw new InvalidArgumentError(
        `invalid cron expression '${cron}' or time zone: ${(error as Error).message}`,
      );
    }
  }
  const payload = options.payload ?? '';
  return {
    id,
    cron,
    every,
    timezone,
    functionName: options.functionName,
    payload: Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload),
    priority,
    unique,
    catchUp,
  };
}

/** The first tick strictly after `after`, or null when none is left. */
export function nextTick(
  timing: { cron: string | null; every: number | null; timezone: string | null; since: number },
  after: number,
): number | null {
  const { every, since } = timing;
  if (every !== null) {
    if (after < since) return since + every;
    return since + (Math.floor((after - since) / every) + 1) * every;
  }
  return cronOf(timing.cron!, timing.timezone).nextRun(new Date(after))?.getTime() ?? null;
}

/** The newest tick at or before `upTo` (and after `since`), or null. */
export function latestTick(
  timing: { cron: string | null; every: number | null; timezone: string | null; since: number },
  upTo: number,
): number | null {
  const { every, since } = timing;
  if (every !== null) {
    const k = Math.floor((upTo - since) / every);
    return k >= 1 ? since + k * every : null;
  }
  const runs = cronOf(timing.cron!, timing.timezone).previousRuns(1, new Date(upTo + 1));
  const tick = runs[0]?.getTime();
  return tick !== undefined && tick > since ? tick : null;
}
