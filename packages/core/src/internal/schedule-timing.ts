import { Cron } from 'croner';
import { InvalidArgumentError } from '../errors.js';

/** What a schedule's ticks follow: a cron expression in a zone, or every N ms since a time. */
export interface Timing {
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string | null;
  /** When the schedule was defined: `every` ticks at `since + k × every`, k ≥ 1. */
  readonly since: number;
}

/**
 * Parsed cron expressions, the most recently used last: a parsed expression costs far more
 * than its text (croner 11 keeps a table of the years 1-9999 in each, ~80 KB), so ten
 * thousand schedules keep only their text, and the few expressions in use stay parsed
 * here. A miss costs a parse (~0.2 ms), once per tick at most.
 */
const PARSED_LIMIT = 8;
const parsed = new Map<string, Cron>();
/** Zones already checked (a check builds an Intl formatter). */
const zones = new Set<string>(['UTC']);

function cronOf(expression: string, timezone: string | null): Cron {
  const zone = timezone ?? 'UTC';
  const key = `${zone}\n${expression}`;
  let cron = parsed.get(key);
  if (cron !== undefined) {
    parsed.delete(key);
  } else {
    cron = new Cron(expression, { timezone: zone, paused: true });
    if (parsed.size >= PARSED_LIMIT) parsed.delete(parsed.keys().next().value!);
  }
  parsed.set(key, cron);
  return cron;
}

/**
 * Checks a timing (cron through croner, decision 23: five fields, or six with seconds
 * first).
 * @throws InvalidArgumentError for a bad expression, interval or zone
 */
export function checkTiming(timing: Timing): void {
  const { cron, every, timezone } = timing;
  if ((cron === null) === (every === null)) {
    throw new InvalidArgumentError('a schedule has either cron or every');
  }
  if (every !== null) {
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new InvalidArgumentError('every must be a whole number of ms ≥ 1');
    }
    if (timezone !== null) throw new InvalidArgumentError('timezone applies to cron only');
    return;
  }
  if (typeof cron !== 'string') throw new InvalidArgumentError('cron must be a string');
  if (timezone !== null && !zones.has(timezone)) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new InvalidArgumentError(
        `unknown time zone '${timezone}' (an IANA name, e.g. Europe/Berlin)`,
      );
    }
    zones.add(timezone);
  }
  try {
    cronOf(cron, timezone);
  } catch (error) {
    throw new InvalidArgumentError(
      `invalid cron expression '${cron}': ${(error as Error).message}`,
    );
  }
}

/**
 * The first tick strictly after `after`, or null when none is left. Across daylight-saving
 * changes a cron does what its users expect (croner): a time that does not exist that day
 * (02:30 when clocks jump from 02:00 to 03:00) ticks at the first time after the jump, and
 * one that happens twice ticks once.
 */
export function nextTick(timing: Timing, after: number): number | null {
  const { every, since } = timing;
  if (every !== null) {
    if (after < since) return since + every;
    return since + (Math.floor((after - since) / every) + 1) * every;
  }
  return cronOf(timing.cron!, timing.timezone).nextRun(new Date(after))?.getTime() ?? null;
}

/** The newest `count` ticks at or before `upTo`, oldest first (without walking them all). */
export function latestTicks(timing: Timing, upTo: number, count: number): number[] {
  const { every, since } = timing;
  if (every !== null) {
    const newest = Math.floor((upTo - since) / every);
    const ticks: number[] = [];
    for (let k = Math.max(1, newest - count + 1); k <= newest; k++) ticks.push(since + k * every);
    return ticks;
  }
  // croner's previous runs are strictly before the reference, newest first.
  return cronOf(timing.cron!, timing.timezone)
    .previousRuns(count, new Date(upTo + 1))
    .map((d) => d.getTime())
    .reverse();
}
