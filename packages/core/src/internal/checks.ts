import { InvalidArgumentError, UniqueTooLargeError } from '../errors.js';

// The checks of what a submission or registration names, before the engine touches it.

/** Rejects names that cannot travel over Gearman (a NUL byte would break the framing). */
export function checkName(value: string, what: string): void {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  if (value.includes('\0')) throw new InvalidArgumentError(`${what} must not contain a NUL byte`);
}

/** A non-empty unique id: a name, and at most `maxBytes` bytes of UTF-8. */
export function checkUnique(unique: string, maxBytes: number): void {
  checkName(unique, 'unique id');
  // Three bytes a character at most: the byte count is needed only for long ids.
  if (unique.length * 3 > maxBytes && Buffer.byteLength(unique, 'utf8') > maxBytes) {
    throw new UniqueTooLargeError(maxBytes);
  }
}

/** Delayed jobs are background jobs (as SUBMIT_JOB_EPOCH is), at a finite time. */
export function checkRunAt(runAt: number, background: boolean): void {
  if (runAt !== 0 && !background) {
    throw new InvalidArgumentError('a delayed job (runAt, delay) must be a background job');
  }
  if (!Number.isFinite(runAt)) throw new InvalidArgumentError('runAt must be a finite time');
}

/** A listing's `limit`: a non-negative integer, or Infinity for all. */
export function checkLimit(limit: number): void {
  if (limit !== Infinity && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new InvalidArgumentError('limit must be a non-negative integer');
  }
}
