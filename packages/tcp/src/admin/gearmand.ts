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
// Each returns its reply, or a Promise of it when it asks the job server.

export async function status(context: AdminContext): Promise<string> {
  return formatStatus(
    (await context.jobs.functions()).map((f) => ({
      functionName: f.functionName,
      total: f.total,
      running: f.running,
      workers: f.workers,
    })),
  );
}

export async function priorityStatus(context: AdminContext): Promise<string> {
  return formatPriorityStatus(
    (await context.jobs.functions()).map((f) => ({
      functionName: f.functionName,
      ...f.queued,
      workers: f.workers,
    })),
  );
}

/**
 * On a shared queue, each connection is marked with its node: `CLIENT-ID@NODE` in the
 * client id's place (`-` for none), so that a line keeps gearmand's fields.
 */
export function workers(context: AdminContext): string {
  const node = context.jobs.node;
  return formatWorkers(
    context.jobs.connections().map((c) => ({
      fd: c.id,
      address: c.address,
      clientId: node.shared ? `${c.clientId === '' ? '-' : c.clientId}@${node.name}` : c.clientId,
      functions: c.functions,
    })),
  );
}

/** PERSISTED is 1 for background jobs, as gearmand shows it even without a queue. */
export async function showJobs(context: AdminContext): Promise<string> {
  return formatShowJobs(
    (await context.jobs.jobs()).map((j) => ({
      handle: j.handle,
      retries: j.retries,
      ignored: false,
      persisted: j.background,
    })),
  );
}

export async function showUniqueJobs(context: AdminContext): Promise<string> {
  return formatShowUniqueJobs(await context.jobs.uniqueJobs());
}

export async function cancelJob(
  context: AdminContext,
  command: AdminCommandOf<'cancel job'>,
): Promise<string> {
  return (await context.jobs.cancel(command.handle))
    ? formatOk()
    : formatErr(ADMIN_ERRORS.unknownJob);
}

export async function createFunction(
  context: AdminContext,
  command: AdminCommandOf<'create function'>,
): Promise<string> {
  await context.jobs.createFunction(command.functionName);
  return formatOk();
}

/**
 * `drop function` matches the name case-insensitively, as gearmand; it is refused while the
 * function has workers or any live job (gearmand left queued jobs dangling). Workers or
 * running jobs get gearmand's reason; queued (or delayed) jobs alone get their own.
 */
export async function dropFunction(
  context: AdminContext,
  command: AdminCommandOf<'drop function'>,
): Promise<string> {
  const jobs = context.jobs;
  const name = command.functionName;
  const lower = name.toLowerCase();
  const functions = await jobs.functions();
  const match =
    functions.find((f) => f.functionName === name) ??
    functions.find((f) => f.functionName.toLowerCase() === lower);
  if (match === undefined) return formatErr(ADMIN_ERRORS.functionNotFound);
  try {
    await jobs.dropFunction(match.functionName);
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
export async function maxQueue(
  context: AdminContext,
  command: AdminCommandOf<'maxqueue'>,
): Promise<string> {
  await context.jobs.setMaxQueue(command.functionName, command.limits);
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
 * unless `allowRemoteShutdown`. The OK is written before the server closes: it is queued
 * as this returns, and the server closes its connections once the job server has closed
 * (later), each after writing what it has queued (`GearmanServer.shutdown`).
 */
export function shutdown(context: AdminContext, command: AdminCommandOf<'shutdown'>): string {
  if (!context.settings.allowRemoteShutdown && !isLoopback(context.address)) {
    return formatErr('PERMISSION_DENIED shutdown+is+only+accepted+from+loopback');
  }
  context.shutdown(command.graceful);
  return formatOk();
}
