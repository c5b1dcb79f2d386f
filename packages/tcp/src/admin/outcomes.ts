import { JobNotFoundError, type AttemptError } from '@geartrain/core';
import { formatErr, formatOk, formatOkValue } from '@geartrain/protocol';
import type { AdminCommandOf, AdminContext } from '../context.js';
import { formatPolicy, parsePolicy } from '../policy-text.js';
import { columnText, isoTime, listing, plus } from './replies.js';

// geartrain's own admin commands for jobs and what is kept of them (decision 21): one job,
// dead letters, and the policies that decide what is retried and kept.

/**
 * `show failed [FN]` / `show finished [FN]`: one line per kept outcome, oldest end first,
 * then `.`: handle, function, attempts, the reason (failed), the end as an ISO time, and
 * (failed) the last attempt's error message as column text (or `-`), tab-separated.
 */
export async function showOutcomes(
  context: AdminContext,
  command: AdminCommandOf<'show outcomes'>,
): Promise<string> {
  const { functionName, state } = command;
  let text = '';
  for (const o of await context.jobs.outcomes({ functionName, state })) {
    const fields = [o.handle, o.functionName, String(o.attempts)];
    if (state === 'failed') fields.push(o.reason ?? '');
    fields.push(isoTime(o.endedAt));
    if (state === 'failed') fields.push(columnText(o.errors.at(-1)?.message ?? null));
    text += `${fields.join('\t')}\n`;
  }
  return `${text}.\n`;
}

/**
 * `show job H`: one job, live (queued, delayed, running) or kept (completed, failed), as
 * `key⇥value` lines then `.`: state, function, priority, attempts made, the payload's size
 * in bytes (a completed job keeps its result, not its payload: `result` instead), then one
 * `error` line per failed attempt: attempt, reason, ISO time, class name or `-`, message as
 * column text. A job run again by hand is live and kept at once: the live job is shown.
 */
export async function showJob(
  context: AdminContext,
  command: AdminCommandOf<'show job'>,
): Promise<string> {
  const jobs = context.jobs;
  const live = await jobs.job(command.handle);
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
    const kept = await jobs.outcome(command.handle);
    if (kept === undefined) {
      return formatErr('NO_SUCH_JOB no+live+job+or+kept+outcome+has+that+handle');
    }
    lines.push(`state\t${kept.state}`, `function\t${kept.functionName}`);
    lines.push(`priority\t${kept.priority}`, `attempts\t${kept.attempts}`);
    if (kept.state === 'failed') lines.push(`payload\t${kept.payload.length}`);
    else lines.push(`result\t${kept.result?.length ?? 0}${kept.truncated ? '\ttruncated' : ''}`);
    errors = kept.errors;
  }
  for (const e of errors) {
    const name = e.name ?? '-';
    lines.push(
      ['error', e.attempt, e.reason, isoTime(e.time), name, columnText(e.message)].join('\t'),
    );
  }
  return listing(lines);
}

/**
 * `retry job H`: the dead letter runs again under its handle. The answer may wait for the
 * job store: its place among the replies is kept meanwhile.
 */
export async function retryJob(
  context: AdminContext,
  command: AdminCommandOf<'retry job'>,
): Promise<string> {
  try {
    await context.jobs.retry(command.handle);
    return formatOk();
  } catch (error) {
    if (error instanceof JobNotFoundError) {
      return formatErr('NO_SUCH_JOB no+failed+job+is+kept+under+that+handle');
    }
    throw error;
  }
}

export async function discardJob(
  context: AdminContext,
  command: AdminCommandOf<'discard job'>,
): Promise<string> {
  return (await context.jobs.discard(command.handle))
    ? formatOk()
    : formatErr('NO_SUCH_JOB no+outcome+is+kept+under+that+handle');
}

/** `discard failed FN`: `OK <how many>`. */
export async function discardFailed(
  context: AdminContext,
  command: AdminCommandOf<'discard failed'>,
): Promise<string> {
  return formatOkValue(String(await context.jobs.discardFailed(command.functionName)));
}

/**
 * `policy FN [settings]`: shows, sets or (with `none`) removes a function's policy, what it
 * retries and what it keeps (policy-text.ts): the `attempts`, `backoff` and `keep` of its
 * settings record, as set (the rest of the record is left as it is). Setting replaces the
 * whole policy: a part left out is put back to its default.
 */
export async function policy(
  context: AdminContext,
  command: AdminCommandOf<'policy'>,
): Promise<string> {
  const jobs = context.jobs;
  const { functionName, settings } = command;
  if (settings.length === 0) {
    return formatOkValue(formatPolicy((await jobs.settings(functionName)).configured));
  }
  const parsed = parsePolicy(settings);
  if (typeof parsed === 'string') return formatErr(`INVALID_ARGUMENTS ${plus(parsed)}`);
  // A refused policy is INVALID_ARGUMENTS, a queue that could not keep it QUEUE_ERROR.
  await jobs.configure(functionName, {
    attempts: parsed?.attempts ?? null,
    backoff: parsed?.backoff ?? null,
    keep: parsed?.keep ?? null,
  });
  return formatOk();
}
