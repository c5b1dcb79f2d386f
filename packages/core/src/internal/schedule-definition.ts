import { InvalidArgumentError, UniqueTooLargeError } from '../errors.js';
import type { CatchUp, Priority, ScheduleOptions } from '../types.js';
import { checkName, checkOptions } from './checks.js';
import { SCHEDULE_KEYS } from './option-keys.js';
import { checkTiming } from './schedule-timing.js';

/** The widest a tick's time is in the unique id (ms since 1970, up to the year 2286). */
const TICK_DIGITS = 13;

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const CATCH_UPS: readonly CatchUp[] = ['none', 'latest', 'all'];

/** A schedule as `schedule(id, options)` defines it: checked, its defaults filled in. */
export interface ScheduleDefinition {
  readonly id: string;
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string | null;
  readonly functionName: string;
  /** Text stays text (a copy of a string costs nothing); bytes are copied, not shared. */
  readonly payload: string | Buffer;
  readonly priority: Priority;
  readonly unique: string;
  readonly catchUp: CatchUp;
}

/**
 * Checks a schedule's definition and fills in its defaults: the one rule for every queue
 * (the local queue's schedules, and a shared queue's backend).
 * @throws InvalidArgumentError for a bad id, option, function name, priority, catch-up,
 *   unique id or timing; UniqueTooLargeError when `<unique>:<tick>` would not fit
 *   `maxUniqueLength` bytes
 */
export function scheduleDefinitionOf(
  id: string,
  options: ScheduleOptions,
  maxUniqueLength: number,
): ScheduleDefinition {
  checkName(id, 'schedule id');
  if (id === '') throw new InvalidArgumentError('a schedule needs an id');
  if (options === undefined) throw new InvalidArgumentError('schedule options must be an object');
  checkOptions(options, 'schedule options', SCHEDULE_KEYS);
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
    // `<unique>:<tick>` must fit the server's unique ids.
    throw new UniqueTooLargeError(maxUniqueLength);
  }
  const timing = {
    cron: options.cron ?? null,
    every: options.every ?? null,
    timezone: options.timezone ?? null,
  };
  checkTiming({ ...timing, since: 0 });
  const payload = options.payload ?? '';
  return {
    id,
    ...timing,
    functionName: options.functionName,
    payload: typeof payload === 'string' ? payload : Buffer.from(payload),
    priority,
    unique,
    catchUp,
  };
}
