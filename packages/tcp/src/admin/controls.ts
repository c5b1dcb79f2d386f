import { formatErr, formatOk, formatOkValue } from '@geartrain/protocol';
import type { AdminCommandOf, AdminContext } from '../context.js';
import {
  formatControl,
  formatLimits,
  formatSchedule,
  parseLimits,
  parseScheduleSpec,
} from '../control-text.js';
import { answerLater, listing, plus } from './replies.js';

// geartrain's own admin commands for pauses, limits and schedules (decision 23). A change
// is answered once the job store keeps it.

/**
 * Whether a function is known to the server: it has an entry (workers, jobs, `create
 * function`), or something set for it already (a pause or limit, a schedule, a policy).
 * `pause`, `resume` and `limit` refuse others, so that a typo does not silently pause a
 * function that never runs (gearmand's way to make one is `create function`).
 */
function known(context: AdminContext, name: string): boolean {
  const jobs = context.jobs;
  return (
    jobs.functions().some((f) => f.functionName === name) ||
    jobs.controls().some((c) => c.functionName === name) ||
    jobs.schedules().some((s) => s.functionName === name) ||
    jobs.jobPolicy(name) !== null
  );
}

function noSuchFunction(name: string): string {
  return formatErr(
    `NO_SUCH_FUNCTION no+function+is+named+${plus(name)}:+create+function+${plus(name)}+first`,
  );
}

export function pause(context: AdminContext, command: AdminCommandOf<'pause'>): string | undefined {
  const name = command.functionName;
  if (!known(context, name)) return noSuchFunction(name);
  return answerLater(context, context.jobs.pause(name));
}

export function resume(
  context: AdminContext,
  command: AdminCommandOf<'resume'>,
): string | undefined {
  const name = command.functionName;
  if (!known(context, name)) return noSuchFunction(name);
  return answerLater(context, context.jobs.resume(name));
}

/** `limit FN` shows, `limit FN none` removes, `limit FN rate=…,concurrency=…` sets. */
export function limit(context: AdminContext, command: AdminCommandOf<'limit'>): string | undefined {
  const jobs = context.jobs;
  const name = command.functionName;
  if (command.settings.length === 0) return formatOkValue(formatLimits(jobs.functionLimits(name)));
  const limits = parseLimits(command.settings);
  if (typeof limits === 'string') return formatErr(`INVALID_ARGUMENTS ${plus(limits)}`);
  if (!known(context, name)) return noSuchFunction(name);
  return answerLater(context, jobs.setFunctionLimits(name, limits));
}

export function showFunctions(context: AdminContext): string {
  return listing(context.jobs.controls().map(formatControl));
}

export function showSchedules(context: AdminContext): string {
  return listing(context.jobs.schedules().map(formatSchedule));
}

export function scheduleAdd(
  context: AdminContext,
  command: AdminCommandOf<'schedule add'>,
): string | undefined {
  const options = parseScheduleSpec(command.functionName, command.spec);
  if (typeof options === 'string') return formatErr(`INVALID_ARGUMENTS ${plus(options)}`);
  return answerLater(context, context.jobs.schedule(command.id, options));
}

export function scheduleRemove(
  context: AdminContext,
  command: AdminCommandOf<'schedule remove'>,
): undefined {
  return answerLater(context, context.jobs.unschedule(command.id), (removed) =>
    removed ? formatOk() : formatErr('NO_SUCH_SCHEDULE no+schedule+has+that+id'),
  );
}
