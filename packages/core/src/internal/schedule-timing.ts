import { Cron } from 'croner';
import { InvalidArgumentError } from '../errors.js';

/** When a schedule ticks. */
export interface Timing {
  /** The first tick strictly after `after`, or null when none is left. */
  next(after: number): number | null;
  /** The newest `count` ticks at or before `upTo`, oldest first (without walking them all). */
  latest(upTo: number, count: number): number[];
}

/** Ticks at `since + k × every`, k ≥ 1: a restart keeps the phase. */
class EveryTiming implements Timing {
  constructor(
    private readonly since: number,
    private readonly every: number,
  ) {}

  next(after: number): number {
    if (after < this.since) return this.since + this.every;
    return this.since + (Math.floor((after - this.since) / this.every) + 1) * this.every;
  }

  latest(upTo: number, count: number): number[] {
    const newest = Math.floor((upTo - this.since) / this.every);
    const ticks: number[] = [];
    for (let k = Math.max(1, newest - count + 1); k <= newest; k++) {
      ticks.push(this.since + k * this.every);
    }
    return ticks;
  }
}

/**
 * A cron expression in a time zone, through croner (decision 23): five fields, or six with
 * seconds first. Across daylight-saving changes it does what cron users expect: a time
 * that does not exist that day (02:30 when clocks jump from 02:00 to 03:00) ticks at the
 * first time after the jump, and one that happens twice ticks once.
 */
class CronTiming implements Timing {
  constructor(private readonly cron: Cron) {}

  next(after: number): number | null {
    return this.cron.nextRun(new Date(after))?.getTime() ?? null;
  }

  latest(upTo: number, count: number): number[] {
    // croner's previous runs are strictly before the reference, newest first.
    return this.cron
      .previousRuns(count, new Date(upTo + 1))
      .map((d) => d.getTime())
      .reverse();
  }
}

/**
 * Parsed expressions by zone and text: ten thousand schedules of a few expressions share
 * them. An entry lives as long as a schedule uses it.
 */
const parsed = new Map<string, { cron: Cron; users: number }>();

function key(expression: string, timezone: string): string {
  return `${timezone}\n${expression}`;
}

/** Checks an IANA zone name (croner would only fail when it computes a tick). */
function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidArgumentError(
      `unknown time zone '${timezone}' (an IANA name, e.g. Europe/Berlin)`,
    );
  }
}

/**
 * The timing of a schedule's definition, checked.
 * @throws InvalidArgumentError for a bad expression, interval or zone
 */
export function timingOf(
  cron: string | null,
  every: number | null,
  timezone: string | null,
  since: number,
): Timing {
  if ((cron === null) === (every === null)) {
    throw new InvalidArgumentError('a schedule has either cron or every');
  }
  if (every !== null) {
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new InvalidArgumentError('every must be a whole number of ms ≥ 1');
    }
    if (timezone !== null) throw new InvalidArgumentError('timezone applies to cron only');
    return new EveryTiming(since, every);
  }
  if (typeof cron !== 'string') throw new InvalidArgumentError('cron must be a string');
  const zone = timezone ?? 'UTC';
  checkTimezone(zone);
  const k = key(cron, zone);
  let entry = parsed.get(k);
  if (entry === undefined) {
    let parsedCron: Cron;
    try {
      parsedCron = new Cron(cron, { timezone: zone, paused: true });
    } catch (error) {
      throw new InvalidArgumentError(
        `invalid cron expression '${cron}': ${(error as Error).message}`,
      );
    }
    entry = { cron: parsedCron, users: 0 };
    parsed.set(k, entry);
  }
  entry.users++;
  return new CronTiming(entry.cron);
}

/** A schedule no longer uses its timing (removed or redefined). */
export function releaseTiming(cron: string | null, timezone: string | null): void {
  if (cron === null) return;
  const k = key(cron, timezone ?? 'UTC');
  const entry = parsed.get(k);
  if (entry !== undefined && --entry.users === 0) parsed.delete(k);
}
