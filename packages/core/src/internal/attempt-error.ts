import type { AttemptError, AttemptFailure } from '../types.js';

/**
 * What a kept outcome records of one failed attempt: the bytes a worker sent (WORK_EXCEPTION
 * data), their text, and — when a handler in this process (or in a thread pool, which sends
 * them across) threw an Error — its class name and stack. Everything is capped at `limit`
 * (the outcome data limit): a dead letter keeps every attempt's error for days.
 */
export function attemptError(
  attempt: number,
  reason: AttemptFailure,
  data: Buffer | null,
  thrown: unknown,
  time: number,
  limit: number,
): AttemptError {
  const bytes = data === null ? null : Buffer.from(data.subarray(0, limit));
  const error = described(thrown);
  let message = bytes === null ? null : bytes.toString('utf8');
  // A WorkFail thrown in process says why, though WORK_FAIL itself carries no data.
  if (message === null && error !== null) message = error.message.slice(0, limit);
  return {
    attempt,
    reason,
    message,
    data: bytes,
    name: error?.name ?? null,
    stack: error?.stack.slice(0, limit) ?? null,
    time,
  };
}

/**
 * The name, message and stack of a thrown Error, read by shape so that one from another
 * realm (a `vm` context) counts too; null for anything else thrown (a string, a number).
 * The name is the one the error gives itself (`TypeError`, `WorkFail`), or, for a subclass
 * that left the inherited `Error`, its constructor's: that is the class that was thrown.
 * (Not for an Error-shaped plain object, whose constructor is Object.)
 */
export function described(
  thrown: unknown,
): { readonly name: string; readonly message: string; readonly stack: string } | null {
  if (typeof thrown !== 'object' || thrown === null) return null;
  const { name, message, stack } = thrown as { name?: unknown; message?: unknown; stack?: unknown };
  if (typeof message !== 'string' || typeof stack !== 'string') return null;
  let className = typeof name === 'string' ? name : 'Error';
  if (className === 'Error' && thrown instanceof Error) {
    const constructorName = (thrown as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof constructorName === 'string' && constructorName !== '') className = constructorName;
  }
  return { name: className, message, stack };
}

/**
 * An attempt's error as a store gave it back. Stores written before errors had a message, a
 * name and a stack (or a store that keeps only what it knew of) give `data` alone: the
 * message is then its text, as it would have been.
 */
export function storedAttemptError(e: AttemptError): AttemptError {
  const { message, name, stack } = e as Partial<AttemptError>;
  if (message !== undefined && name !== undefined && stack !== undefined) return e;
  const data = e.data ?? null;
  return {
    attempt: e.attempt,
    reason: e.reason,
    message: message ?? (data === null ? null : data.toString('utf8')),
    data,
    name: name ?? null,
    stack: stack ?? null,
    time: e.time,
  };
}
