import {
  FunctionBusyError,
  FunctionNotFoundError,
  InvalidArgumentError,
  JobNotFoundError,
  UniqueTooLargeError,
  type JobOutcome,
} from '@geartrain/core';
import {
  ADMIN_ERRORS,
  formatErr,
  formatOk,
  formatOkValue,
  formatPriorityStatus,
  formatRejection,
  formatShowJobs,
  formatShowUniqueJobs,
  formatStatus,
  formatWorkers,
  parseAdminLine,
} from '@geartrain/protocol';
import { formatPolicy, parsePolicy } from './policy-text.js';
import {
  formatControl,
  formatLimits,
  formatSchedule,
  parseLimits,
  parseScheduleSpec,
} from './control-text.js';
import type { Session } from './session.js';

/** Whether an address is this machine's loopback. */
export function isLoopback(address: string): boolean {
  return (
    address === '::1' ||
    address.startsWith('127.') ||
    address.startsWith('::ffff:127.') ||
    address === 'in-process'
  );
}

/**
 * Runs one admin text command (reference §4.2) and queues its reply, byte for byte as
 * gearmand 1.1.20 writes it, as one write.
 */
export function executeAdmin(session: Session, line: string): void {
  const command = parseAdminLine(line);
  const server = session.server;
  const jobs = server.jobServer;
  const reply = (text: string) => session.output.sendText(text);
  switch (command.name) {
    case 'status':
      reply(
        formatStatus(
          jobs.functions().map((f) => ({
            functionName: f.functionName,
            total: f.total,
            running: f.running,
            workers: f.workers,
          })),
        ),
      );
      return;
    case 'prioritystatus':
      reply(
        formatPriorityStatus(
          jobs
            .functions()
            .map((f) => ({ functionName: f.functionName, ...f.queued, workers: f.workers })),
        ),
      );
      return;
    case 'workers':
      reply(
        formatWorkers(
          jobs.connections().map((c) => ({
            fd: c.id,
            address: c.address,
            clientId: c.clientId,
            functions: c.functions,
          })),
        ),
      );
      return;
    case 'show jobs':
      // PERSISTED is 1 for background jobs, as gearmand shows it even without a queue.
      reply(
        formatShowJobs(
          jobs.jobs().map((j) => ({
            handle: j.handle,
            retries: j.retries,
            ignored: false,
            persisted: j.background,
          })),
        ),
      );
      return;
    case 'show unique jobs':
      reply(formatShowUniqueJobs(jobs.uniqueJobs()));
      return;
    case 'cancel job':
      reply(jobs.cancel(command.handle) ? formatOk() : formatErr(ADMIN_ERRORS.unknownJob));
      return;
    case 'create function':
      jobs.createFunction(command.functionName);
      reply(formatOk());
      return;
    case 'drop function':
      reply(dropFunction(session, command.functionName));
      return;
    case 'maxqueue':
      // Applies to an existing function; an unknown one is OK and changes nothing.
      jobs.setMaxQueue(command.functionName, command.limits);
      reply(formatOk());
      return;
    case 'getpid':
      reply(formatOkValue(String(process.pid)));
      return;
    case 'version':
      reply(formatOkValue(server.options.version));
      return;
    case 'verbose':
      reply(formatOkValue(server.options.verbose));
      return;
    case 'shutdown':
      if (!server.options.allowRemoteShutdown && !isLoopback(session.address)) {
        reply(formatErr('PERMISSION_DENIED shutdown+is+only+accepted+from+loopback'));
        return;
      }
      reply(formatOk());
      session.output.flush();
      void server.shutdown(command.graceful);
      return;
    case 'policy':
      reply(policy(session, command.functionName, command.settings));
      return;
    case 'show outcomes':
      reply(
        formatOutcomes(
          jobs.outcomes({ functionName: command.functionName, state: command.state }),
          command.state,
        ),
      );
      return;
    case 'retry job': {
      // The answer may wait for the job store: its place in the replies is kept meanwhile,
      // so a command sent after it is not answered before it.
      const slot = session.output.reserve();
      jobs.retry(command.handle).then(
        () => slot.fill(formatOk()),
        (error: unknown) =>
          slot.fill(
            error instanceof JobNotFoundError
              ? formatErr('NO_SUCH_JOB no+failed+job+is+kept+under+that+handle')
              : errorReply(error),
          ),
      );
      return;
    }
    case 'discard job':
      reply(
        jobs.discard(command.handle)
          ? formatOk()
          : formatErr('NO_SUCH_JOB no+outcome+is+kept+under+that+handle'),
      );
      return;
    case 'discard failed':
      reply(formatOkValue(String(jobs.discardFailed(command.functionName))));
      return;
    case 'pause':
      answerLater(session, jobs.pause(command.functionName));
      return;
    case 'resume':
      answerLater(session, jobs.resume(command.functionName));
      return;
    case 'limit': {
      if (command.settings.length === 0) {
        reply(formatOkValue(formatLimits(jobs.functionLimits(command.functionName))));
        return;
      }
      const limits = parseLimits(command.settings);
      if (typeof limits === 'string') {
        reply(formatErr(`INVALID_ARGUMENTS ${plus(limits)}`));
        return;
      }
      answerLater(session, jobs.setFunctionLimits(command.functionName, limits));
      return;
    }
    case 'show functions':
      reply(listing(jobs.controls().map(formatControl)));
      return;
    case 'show schedules':
      reply(listing(jobs.schedules().map(formatSchedule)));
      return;
    case 'schedule add': {
      const options = parseScheduleSpec(command.functionName, command.spec);
      if (typeof options === 'string') {
        reply(formatErr(`INVALID_ARGUMENTS ${plus(options)}`));
        return;
      }
      answerLater(session, jobs.schedule(command.id, options));
      return;
    }
    case 'schedule remove': {
      const slot = session.output.reserve();
      jobs.unschedule(command.id).then(
        (removed) =>
          slot.fill(removed ? formatOk() : formatErr('NO_SUCH_SCHEDULE no+schedule+has+that+id')),
        (error: unknown) => slot.fill(errorReply(error)),
      );
      return;
    }
    case 'too many tokens':
      // gearmand closes the connection without a reply.
      session.closeAfterFlush();
      return;
    default:
      reply(formatRejection(command)!);
  }
}

/** Spaces become `+`, as in gearmand's ERR replies. */
function plus(text: string): string {
  return text.replace(/ /g, '+');
}

/** A listing: one line each, then `.`. */
function listing(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('') + '.\n';
}

/** A refused change: bad arguments, or a store that could not keep it. */
function errorReply(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InvalidArgumentError || error instanceof UniqueTooLargeError) {
    return formatErr(`INVALID_ARGUMENTS ${plus(message)}`);
  }
  return formatErr(`QUEUE_ERROR ${plus(message)}`);
}

/**
 * Answers OK once a change the store keeps is stored (or ERR), in its place among the
 * replies: a command sent after it is not answered before it.
 */
function answerLater(session: Session, change: Promise<unknown>): void {
  const slot = session.output.reserve();
  change.then(
    () => slot.fill(formatOk()),
    (error: unknown) => slot.fill(errorReply(error)),
  );
}

/**
 * `show failed` / `show finished`: one line per kept outcome, oldest end first, then `.`:
 * handle, attempts, the reason (failed) and the end as an ISO time, tab-separated.
 */
function formatOutcomes(outcomes: readonly JobOutcome[], state: 'failed' | 'completed'): string {
  let text = '';
  for (const o of outcomes) {
    const fields = [o.handle, o.functionName, String(o.attempts)];
    if (state === 'failed') fields.push(o.reason ?? '');
    fields.push(new Date(o.endedAt).toISOString());
    text += `${fields.join('\t')}\n`;
  }
  return `${text}.\n`;
}

/**
 * `policy FN [settings]`: shows, sets or (with `none`) removes a function's policy, what it
 * retries and what it keeps (policy-text.ts); setting replaces the whole policy.
 */
function policy(session: Session, functionName: string, settings: readonly string[]): string {
  const jobs = session.server.jobServer;
  if (settings.length === 0) return formatOkValue(formatPolicy(jobs.jobPolicy(functionName)));
  const parsed = parsePolicy(settings);
  if (typeof parsed === 'string')
    return formatErr(`INVALID_ARGUMENTS ${parsed.replace(/ /g, '+')}`);
  try {
    jobs.setJobPolicy(functionName, parsed);
  } catch (error) {
    return formatErr(`INVALID_ARGUMENTS ${(error as Error).message.replace(/ /g, '+')}`);
  }
  return formatOk();
}

/**
 * `drop function` matches the name case-insensitively, as gearmand; it is refused while the
 * function has workers or any live job (gearmand left queued jobs dangling).
 */
function dropFunction(session: Session, name: string): string {
  const jobs = session.server.jobServer;
  const lower = name.toLowerCase();
  const match =
    jobs.functions().find((f) => f.functionName === name) ??
    jobs.functions().find((f) => f.functionName.toLowerCase() === lower);
  if (match === undefined) return formatErr(ADMIN_ERRORS.functionNotFound);
  try {
    jobs.dropFunction(match.functionName);
    return formatOk();
  } catch (error) {
    if (error instanceof FunctionBusyError) return formatErr(ADMIN_ERRORS.functionBusy);
    if (error instanceof FunctionNotFoundError) return formatErr(ADMIN_ERRORS.functionNotFound);
    throw error;
  }
}
