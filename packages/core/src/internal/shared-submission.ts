import { InvalidArgumentError } from '../errors.js';
import type { SharedSubmission } from '../queue-backend.js';
import { retriesOf } from '../retry.js';
import type { SubmitRequest } from '../transport-types.js';
import { checkName, checkRunAt, checkUnique } from './checks.js';
import { fromBody, toBody } from './payload.js';
import { PRIORITY_NAMES, priorityIndex } from './priority.js';

/**
 * A submission as a shared queue sends it to its backend, checked as the local queue checks
 * its own (a bad one throws its typed error at once). `now`: the scheduler's clock, for a
 * job's delay.
 */
export function sharedSubmissionOf(
  request: SubmitRequest,
  maxUniqueLength: number,
  now: number,
): SharedSubmission {
  checkName(request.functionName, 'function name');
  const unique = request.unique ?? '';
  if (unique === '-') {
    throw new InvalidArgumentError(
      "a shared queue does not coalesce by payload (unique id '-'): give the job a unique id",
    );
  }
  if (unique.length > 0) checkUnique(unique, maxUniqueLength);
  const foreground = request.background !== true;
  const runAt = request.runAt ?? 0;
  checkRunAt(runAt, !foreground);
  return {
    functionName: request.functionName,
    payload: fromBody(toBody(request.payload, !foreground)),
    unique,
    priority: PRIORITY_NAMES[priorityIndex(request.priority)]!,
    delay: runAt === 0 ? 0 : Math.max(0, runAt - now),
    reducer: request.reducer ?? '',
    retry: request.retry === undefined ? null : retriesOf(request.retry),
    foreground,
  };
}
