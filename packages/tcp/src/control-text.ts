import type {
  CatchUp,
  FunctionControl,
  FunctionLimits,
  NodeInfo,
  Priority,
  ScheduleInfo,
  ScheduleOptions,
} from '@geartrain/core';

// Text forms of a function's limits and of a schedule, for the admin commands `limit`,
// `show functions`, `schedule add` and `show schedules`. gearmand's admin lines take at
// most five tokens, so each form is one token: limits as `rate=10/1000,concurrency=5`, a
// schedule as URL-encoded settings (`every=300000&priority=low`,
// `cron=0+*%2F5+*+*+*+*&tz=Europe/Berlin`), since a cron expression has spaces and commas.

/** Reads `rate=MAX/MS,concurrency=N` (either or both), or `none`; a string says what is wrong. */
export function parseLimits(tokens: readonly string[]): FunctionLimits | string {
  const settings = tokens.flatMap((t) => t.split(',')).filter((t) => t !== '');
  if (settings.length === 1 && settings[0]!.toLowerCase() === 'none') {
    return { rate: null, concurrency: null };
  }
  let rate: FunctionLimits['rate'] = null;
  let concurrency: number | null = null;
  for (const setting of settings) {
    const [key, value = ''] = setting.split('=', 2) as [string, string?];
    switch (key.toLowerCase()) {
      case 'rate': {
        const match = /^(\d+)\/(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
        if (match === null) return `rate is MAX/DURATION (10/1000 or 10/1s), not '${value}'`;
        const unit = match[3] === 's' ? 1000 : match[3] === 'm' ? 60_000 : 1;
        rate = { max: Number(match[1]), duration: Number(match[2]) * unit };
        break;
      }
      case 'concurrency':
        if (!/^\d+$/.test(value)) return `concurrency is a whole number, not '${value}'`;
        concurrency = Number(value);
        break;
      default:
        return `unknown setting '${setting}' (rate=MAX/MS,concurrency=N, or none)`;
    }
  }
  if (settings.length === 0) return 'rate=MAX/MS or concurrency=N is needed';
  return { rate, concurrency };
}

export function formatLimits(limits: Required<FunctionLimits>): string {
  const parts: string[] = [];
  if (limits.rate !== null) parts.push(`rate=${limits.rate.max}/${limits.rate.duration}`);
  if (limits.concurrency !== null) parts.push(`concurrency=${limits.concurrency}`);
  return parts.length === 0 ? 'none' : parts.join(',');
}

/** A `show functions` line: name, paused or active, and the limits. */
export function formatControl(control: FunctionControl): string {
  return [control.functionName, control.paused ? 'paused' : 'active', formatLimits(control)].join(
    '\t',
  );
}

const PRIORITIES: readonly string[] = ['high', 'normal', 'low'];
const CATCH_UPS: readonly string[] = ['none', 'latest', 'all'];
const SCHEDULE_KEYS = ['cron', 'every', 'tz', 'priority', 'unique', 'catchup', 'payload'];

/** Reads a schedule's settings (see above); a string says what is wrong. */
export function parseScheduleSpec(functionName: string, spec: string): ScheduleOptions | string {
  const params = new URLSearchParams(spec);
  for (const key of params.keys()) {
    if (!SCHEDULE_KEYS.includes(key)) {
      return `unknown setting '${key}' (${SCHEDULE_KEYS.join(', ')})`;
    }
  }
  const every = params.get('every');
  const priority = params.get('priority') ?? 'normal';
  if (!PRIORITIES.includes(priority)) return `priority is high, normal or low, not '${priority}'`;
  const catchUp = params.get('catchup') ?? 'latest';
  if (!CATCH_UPS.includes(catchUp)) return `catchup is none, latest or all, not '${catchUp}'`;
  if (every !== null && !/^\d+$/.test(every)) return `every is a number of ms, not '${every}'`;
  const options: {
    -readonly [K in keyof ScheduleOptions]: ScheduleOptions[K];
  } = {
    functionName,
    priority: priority as Priority,
    catchUp: catchUp as CatchUp,
  };
  const cron = params.get('cron');
  if (cron !== null) options.cron = cron;
  if (every !== null) options.every = Number(every);
  const tz = params.get('tz');
  if (tz !== null) options.timezone = tz;
  const unique = params.get('unique');
  if (unique !== null) options.unique = unique;
  const payload = params.get('payload');
  if (payload !== null) options.payload = payload;
  return options;
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

/** A `show schedules` line: id, function, timing, zone, next and last tick. */
/**
 * A node as `show nodes` lists it: id, name, start, ms since its last heartbeat, running
 * jobs, its workers' functions (comma-separated, `-` for none), and `self` for the node
 * that answers.
 */
export function formatNode(node: NodeInfo, now: number): string {
  return [
    node.id,
    node.name,
    `started=${new Date(node.startedAt).toISOString()}`,
    `heartbeat=${Math.max(0, now - node.heartbeatAt)}ms`,
    `running=${node.running}`,
    `functions=${node.functions.length === 0 ? '-' : node.functions.join(',')}`,
    ...(node.self ? ['self'] : []),
  ].join('\t');
}

export function formatSchedule(s: ScheduleInfo): string {
  const timing = s.cron !== null ? `cron=${s.cron}` : `every=${s.every}`;
  return [
    s.id,
    s.functionName,
    timing,
    s.timezone ?? 'UTC',
    `next=${time(s.nextTick)}`,
    `last=${time(s.lastTick)}`,
  ].join('\t');
}
