import {
  FunctionBusyError,
  FunctionNotFoundError,
  InvalidArgumentError,
  JobNotFoundError,
  UniqueTooLargeError,
  type AttemptError,
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
  MAX_ADMIN_TOKENS,
  parseAdminLine,
  type AdminCommand,
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
  if (changes(command) && !server.options.allowRemoteAdmin && !isLoopback(session.address)) {
    reply(
      formatErr(
        `PERMISSION_DENIED ${plus(command.name)}+is+only+accepted+from+loopback;+allowRemoteAdmin:+true+(geartrain+serve+--allow-remote-admin)+accepts+it+from+other+hosts`,
      ),
    );
    return;
  }
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
    case 'show job':
      reply(showJob(session, command.handle));
      return;
    case 'help':
      reply(listing(HELP));
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
      if (!knownFunction(session, command.functionName))
        reply(noSuchFunction(command.functionName));
      else answerLater(session, jobs.pause(command.functionName));
      return;
    case 'resume':
      if (!knownFunction(session, command.functionName))
        reply(noSuchFunction(command.functionName));
      else answerLater(session, jobs.resume(command.functionName));
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
      if (!knownFunction(session, command.functionName)) {
        reply(noSuchFunction(command.functionName));
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
      // gearmand closes the connection without a reply, which leaves an operator guessing
      // (a cron expression's spaces make it easy to hit): an ERR, and the connection goes on.
      reply(
        formatErr(
          `TOO_MANY_ARGUMENTS an+admin+line+takes+at+most+${MAX_ADMIN_TOKENS}+words:+URL-encode+the+spaces+inside+a+value`,
        ),
      );
      return;
    default:
      reply(formatRejection(command)!);
  }
}

/**
 * Whether a command is one of geartrain's own that changes the server: those answer only
 * loopback peers unless `allowRemoteAdmin`. gearmand's own (`cancel job`, `create` and `drop
 * function`, `maxqueue`) answer anyone, as gearmand's do; `shutdown` has its own option.
 */
function changes(command: AdminCommand): boolean {
  switch (command.name) {
    case 'retry job':
    case 'discard job':
    case 'discard failed':
    case 'pause':
    case 'resume':
    case 'schedule add':
    case 'schedule remove':
      return true;
    case 'policy':
    case 'limit':
      return command.settings.length > 0;
    default:
      return false;
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
 * handle, function, attempts, the reason (failed), the end as an ISO time, and (failed) the
 * last attempt's error message as column text (or `-`), tab-separated.
 */
function formatOutcomes(outcomes: readonly JobOutcome[], state: 'failed' | 'completed'): string {
  let text = '';
  for (const o of outcomes) {
    const fields = [o.handle, o.functionName, String(o.attempts)];
    if (state === 'failed') fields.push(o.reason ?? '');
    fields.push(isoTime(o.endedAt));
    if (state === 'failed') fields.push(columnText(o.errors.at(-1)?.message ?? null));
    text += `${fields.join('\t')}\n`;
  }
  return `${text}.\n`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Free text (an error message) as one column of a listing: encoded as gearmand's ERR texts
 * are, a space as `+`, and what would break the listing or the encoding (`%`, `+`, tabs,
 * line ends, other control and space characters) as %XX, so that any form decoder reads
 * it back; `-` when there is none (and a text that is just `-` is `%2D`).
 */
export function columnText(text: string | null): string {
  if (text === null) return '-';
  if (text === '-') return '%2D';
  return text.replace(/[%+\s\p{Cc}]/gu, (c) => (c === ' ' ? '+' : encodeURIComponent(c)));
}

/**
 * `show job H`: one job, live (queued, delayed, running) or kept (completed, failed), as
 * `key⇥value` lines then `.`: state, function, priority, attempts made, the payload's size
 * in bytes (a completed job keeps its result, not its payload: `result` instead), then one
 * `error` line per failed attempt: attempt, reason, ISO time, class name or `-`, message as
 * column text.
 */
function showJob(session: Session, handle: string): string {
  const jobs = session.server.jobServer;
  const live = jobs.job(handle);
  const lines: string[] = [];
  let errors: readonly AttemptError[];
  if (live !== undefined) {
    // `attempt` is the one running, or the next one.
    const made = live.state === 'running' ? live.attempt : live.attempt - 1;
    lines.push(`state\t${live.state}`, `function\t${live.functionName}`);
    lines.push(`priority\t${live.priority}`, `attempts\t${made}`);
    lines.push(`payload\t${live.payloadSize}`);
    errors = live.errors;
  } else {
    const kept = jobs.outcome(handle);
    if (kept === undefined)
      return formatErr('NO_SUCH_JOB no+live+job+or+kept+outcome+has+that+handle');
    lines.push(`state\t${kept.state}`, `function\t${kept.functionName}`);
    lines.push(`priority\t${kept.priority}`, `attempts\t${kept.attempts}`);
    if (kept.state === 'failed') lines.push(`payload\t${kept.payload.length}`);
    else lines.push(`result\t${kept.result?.length ?? 0}${kept.truncated ? '\ttruncated' : ''}`);
    errors = kept.errors;
  }
  for (const e of errors) {
    lines.push(
      ['error', e.attempt, e.reason, isoTime(e.time), e.name ?? '-', columnText(e.message)].join(
        '\t',
      ),
    );
  }
  return listing(lines);
}

/**
 * Whether a function is known: it has an entry (workers, jobs, `create function`) or is
 * paused or limited already. `pause`, `resume` and `limit` refuse others, so that a typo
 * does not silently pause a function that never runs (gearmand's way to make one is
 * `create function`).
 */
function knownFunction(session: Session, name: string): boolean {
  const jobs = session.server.jobServer;
  return (
    jobs.functions().some((f) => f.functionName === name) ||
    jobs.controls().some((c) => c.functionName === name)
  );
}

function noSuchFunction(name: string): string {
  return formatErr(
    `NO_SUCH_FUNCTION no+function+is+named+${plus(name)}:+create+function+${plus(name)}+first`,
  );
}

/** `help`: one line per command, syntax then what it does, tab-separated. */
const HELP: readonly string[] = [
  'status\tfunctions: jobs queued or running, running, workers',
  'prioritystatus\tfunctions: queued jobs by priority (high, normal, low), workers',
  'workers\tconnections: number, address, client id : functions',
  'show jobs\tlive jobs: handle, retries, ignored, persisted',
  'show unique jobs\tthe unique ids of live jobs',
  'cancel job H\tremoves a live job; its clients are told it failed',
  'create function FN\tmakes a function known',
  'drop function FN\tforgets a function that has no workers and no jobs',
  'maxqueue FN [MAX | HIGH NORMAL [LOW]]\tqueue limits (0: none)',
  'getpid\tthe process id',
  'version\tthe server version',
  'verbose\tthe log level',
  'shutdown [graceful]\tstops the server (graceful: running jobs finish)',
  'help\tthis list',
  'show job H\tone job, live or kept: state, function, priority, attempts, payload size, errors',
  'show failed [FN]\tdead letters: handle, function, attempts, reason, end, last error',
  'show finished [FN]\tkept completed jobs: handle, function, attempts, end',
  'retry job H\truns a dead letter again under its handle',
  'discard job H\tforgets a kept outcome',
  'discard failed FN\tforgets the dead letters of a function',
  'policy FN [none | SETTINGS]\tshows, removes or sets what is retried and kept (attempts=3,keep-failed=100)',
  'pause FN\tstops handing out the jobs of a function',
  'resume FN\thands them out again',
  'limit FN [none | rate=MAX/MS,concurrency=N]\tshows, removes or sets start limits',
  'show functions\tpaused and limited functions',
  'schedule add ID FN SPEC\tdefines a schedule; SPEC URL-encoded (every=60000&priority=low)',
  'schedule remove ID\tremoves a schedule',
  'show schedules\tschedules: id, function, timing, zone, next and last tick',
];

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
 * function has workers or any live job (gearmand left queued jobs dangling). Workers or
 * running jobs get gearmand's reason; queued (or delayed) jobs alone get their own.
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
    if (error instanceof FunctionBusyError) {
      if (match.workers > 0 || match.running > 0) return formatErr(ADMIN_ERRORS.functionBusy);
      return formatErr(
        `there are still ${match.total} queued job${match.total === 1 ? '' : 's'} (cancel them first, or let workers run them)`,
      );
    }
    if (error instanceof FunctionNotFoundError) return formatErr(ADMIN_ERRORS.functionNotFound);
    throw error;
  }
}
