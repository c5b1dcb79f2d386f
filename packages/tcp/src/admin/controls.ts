import { formatErr, formatOk, formatOkValue } from '@geartrain/protocol';
import type { AdminCommandOf, AdminContext } from '../context.js';
import {
  formatControl,
  formatLimits,
  formatNode,
  formatSchedule,
  parseLimits,
  parseScheduleSpec,
} from '../control-text.js';
import { listing, plus } from './replies.js';

// geartrain's own admin commands for pauses, limits and schedules (decision 23). Pauses and
// limits are read from and written to each function's settings record (`settings`,
// `configure`), as the `policy` command's retries and retention are. A change is answered
// once the job store keeps it (a failure is an ERR: AdminCommands).

/**
 * Whether a function is known to the server: it has an entry (workers, jobs, `create
 * function`), or something set for it already (a setting of its own, a schedule).
 * `pause`, `resume` and `limit` refuse others, so that a typo does not silently pause a
 * function that never runs (gearmand's way to make one is `create function`).
 */
async function known(context: AdminContext, name: string): Promise<boolean> {
  const jobs = context.jobs;
  const [functions, configured, schedules] = await Promise.all([
    jobs.functions(),
    jobs.configured(),
    jobs.schedules(),
  ]);
  return (
    functions.some((f) => f.functionName === name) ||
    configured.some((c) => c.functionName === name) ||
    schedules.some((s) => s.functionName === name)
  );
}

function noSuchFunction(name: string): string {
  return formatErr(
    `NO_SUCH_FUNCTION no+function+is+named+${plus(name)}:+create+function+${plus(name)}+first`,
  );
}

export async function pause(
  context: AdminContext,
  command: AdminCommandOf<'pause'>,
): Promise<string> {
  const name = command.functionName;
  if (!(await known(context, name))) return noSuchFunction(name);
  await context.jobs.pause(name);
  return formatOk();
}

export async function resume(
  context: AdminContext,
  command: AdminCommandOf<'resume'>,
): Promise<string> {
  const name = command.functionName;
  if (!(await known(context, name))) return noSuchFunction(name);
  await context.jobs.resume(name);
  return formatOk();
}

/** `limit FN` shows, `limit FN none` removes, `limit FN rate=…,concurrency=…` sets. */
export async function limit(
  context: AdminContext,
  command: AdminCommandOf<'limit'>,
): Promise<string> {
  const jobs = context.jobs;
  const name = command.functionName;
  if (command.settings.length === 0) return formatOkValue(formatLimits(await jobs.settings(name)));
  const limits = parseLimits(command.settings);
  if (typeof limits === 'string') return formatErr(`INVALID_ARGUMENTS ${plus(limits)}`);
  if (!(await known(context, name))) return noSuchFunction(name);
  // Both are set: one not given is removed, as `limit FN` shows them together.
  await jobs.configure(name, {
    rate: limits.rate ?? null,
    concurrency: limits.concurrency ?? null,
  });
  return formatOk();
}

/** The functions whose settings pause or limit them, by name. */
export async function showFunctions(context: AdminContext): Promise<string> {
  const held = (await context.jobs.configured()).filter(
    (s) => s.paused || s.rate !== null || s.concurrency !== null,
  );
  return listing(held.map(formatControl));
}

export async function showNodes(context: AdminContext): Promise<string> {
  const nodes = await context.jobs.nodes();
  const now = Date.now();
  return listing(nodes.map((node) => formatNode(node, now)));
}

export async function showSchedules(context: AdminContext): Promise<string> {
  return listing((await context.jobs.schedules()).map(formatSchedule));
}

export async function scheduleAdd(
  context: AdminContext,
  command: AdminCommandOf<'schedule add'>,
): Promise<string> {
  const options = parseScheduleSpec(command.functionName, command.spec);
  if (typeof options === 'string') return formatErr(`INVALID_ARGUMENTS ${plus(options)}`);
  await context.jobs.schedule(command.id, options);
  return formatOk();
}

export async function scheduleRemove(
  context: AdminContext,
  command: AdminCommandOf<'schedule remove'>,
): Promise<string> {
  return (await context.jobs.unschedule(command.id))
    ? formatOk()
    : formatErr('NO_SUCH_SCHEDULE no+schedule+has+that+id');
}
