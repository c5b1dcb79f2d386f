import { FunctionBusyError, FunctionNotFoundError } from '@geartrain/core';
import {
  ADMIN_ERRORS,
  formatErr,
  formatOk,
  formatOkValue,
  formatPriorityStatus,
  formatShowJobs,
  formatShowUniqueJobs,
  formatStatus,
  formatWorkers,
} from '@geartrain/protocol';
import type { AdminCommandOf, AdminContext } from '../context.js';
import { isLoopback } from '../loopback.js';

// gearmand's own admin commands (reference §4.2), answered byte for byte as gearmand 1.1.20
// answers them, but where decision 14 and the README's list of differences say otherwise.
// Each returns its reply.

export function status(context: AdminContext): string {
  return formatStatus(
    context.jobs.functions().map((f) => ({
      functionName: f.functionName,
      total: f.total,
      running: f.running,
      workers: f.workers,
    })),
  );
}

export function priorityStatus(context: AdminContext): string {
  return formatPriorityStatus(
    context.jobs
      .functions()
      .map((f) => ({ functionName: f.functionName, ...f.queued, workers: f.workers })),
  );
}

export function workers(context: AdminContext): string {
  return formatWorkers(
    context.jobs.connections().map((c) => ({
      fd: c.id,
      address: c.address,
      clientId: c.clientId,
      functions: c.functions,
    })),
  );
}

/** PERSISTED is 1 for background jobs, as gearmand shows it even without a queue. */
export function showJobs(context: AdminContext): string {
  return formatShowJobs(
    context.jobs.jobs().map((j) => ({
      handle: j.handle,
      retries: j.retries,
      ignored: false,
      persisted: j.background,
    })),
  );
}

export function showUniqueJobs(context: AdminContext): string {
  return formatShowUniqueJobs(context.jobs.uniqueJobs());
}

export function cancelJob(context: AdminContext, command: AdminCommandOf<'cancel job'>): string {
  return context.jobs.cancel(command.handle) ? formatOk() : formatErr(ADMIN_ERRORS.unknownJob);
}

export function createFunction(
  context: AdminContext,
  command: AdminCommandOf<'create function'>,
): string {
  context.jobs.createFunction(command.functionName);
  return formatOk();
}

/**
 * `drop function` matches the name case-insensitively, as gearmand; it is refused while the
 * function has workers or any live job (gearmand left queued jobs dangling). Workers or
 * running jobs get gearmand's reason; queued (or delayed) jobs alone get their own.
 */
export function dropFunction(
  context: AdminContext,
  command: AdminCommandOf<'drop function'>,
): string {
  const jobs = context.jobs;
  const name = command.functionName;
  const lower = name.toLowerCase();
  const match =
    jobs.functions().find((f) => f.functionName === name) ??
    jobs.functions().find((f) => f.functionName.toLowerCase() === lower);
  if (match === undefined) return formatErr(ADMIN_ERRORS.functionNotFound);
  try {
    jobs.dropFunction(match.functionName);
    return formatOk();
  } catch (error) {
    if (error instanceof FunctionBusyError) {
      if (match.workers > 0 || match.running > 0) return formatErr(ADMIN_ERRORS.functionBusy);
      const jobs = `${match.total} queued job${match.total === 1 ? '' : 's'}`;
      return formatErr(`there are still ${jobs} (cancel them first, or let workers run them)`);
    }
    if (error instanceof FunctionNotFoundError) return formatErr(ADMIN_ERRORS.functionNotFound);
    throw error;
  }
}

/** Applies to an existing function; an unknown one is OK and changes nothing (gearmand). */
export function maxQueue(context: AdminContext, command: AdminCommandOf<'maxqueue'>): string {
  context.jobs.setMaxQueue(command.functionName, command.limits);
  return formatOk();
}

export function getPid(): string {
  return formatOkValue(String(process.pid));
}

export function version(context: AdminContext): string {
  return formatOkValue(context.settings.version);
}

export function verbose(context: AdminContext): string {
  return formatOkValue(context.settings.verbose);
}

/**
 * `shutdown [graceful]`, as gearmand before 1.1.15 had it (decision 6): from loopback only
 * unless `allowRemoteShutdown`. The OK is written before the server closes.
 */
export function shutdown(context: AdminContext, command: AdminCommandOf<'shutdown'>): undefined {
  if (!context.settings.allowRemoteShutdown && !isLoopback(context.address)) {
    context.output.sendText(formatErr('PERMISSION_DENIED shutdown+is+only+accepted+from+loopback'));
    return undefined;
  }
  context.output.sendText(formatOk());
  context.output.flush();
  context.shutdown(command.graceful);
  return undefined;
}
