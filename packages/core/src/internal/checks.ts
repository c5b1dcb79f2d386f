import { InvalidArgumentError, UniqueTooLargeError } from '../errors.js';
import type { Retention } from '../types.js';

// The checks of what an application hands the API (names, times, limits, policies), before
// the engine touches it: each refusal is an InvalidArgumentError that says what is wrong.

/** Rejects names that cannot travel over Gearman (a NUL byte would break the framing). */
export function checkName(value: string, what: string): void {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  if (value.includes('\0')) throw new InvalidArgumentError(`${what} must not contain a NUL byte`);
}

/** A job handle: a string (what it names is the queue's to say). */
export function checkHandle(handle: unknown): void {
  if (typeof handle !== 'string') throw new InvalidArgumentError('a job handle must be a string');
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

/**
 * The job server an adapter (TCP, the dashboard) is given. By its shape, not instanceof:
 * an application may load two copies of the package.
 */
export function checkJobServer(value: unknown): void {
  const server = value as { connect?: unknown; functions?: unknown } | null | undefined;
  if (typeof server?.connect !== 'function' || typeof server.functions !== 'function') {
    throw new InvalidArgumentError('a JobServer is needed (createJobServer())');
  }
}

/** A list argument (a task set): anything else has no length to wait for. */
export function checkArray(value: unknown, what: string): void {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${what} must be an array`);
}

/**
 * An options argument: an object, or undefined for the defaults. `null` passes a default
 * parameter by, so it would otherwise end as a TypeError deep inside.
 */
export function checkOptions(value: unknown, what = 'options'): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new InvalidArgumentError(`${what} must be an object`);
  }
}

/**
 * An options object given by an application: an object whose keys are all `known`. A key
 * it does not know is refused rather than ignored: `{ complete: … }` for `completed` would
 * otherwise keep nothing without a word.
 */
export function checkFields(value: unknown, what: string, known: readonly string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`${what} has no setting '${key}' (${known.join(', ')})`);
    }
  }
}

/** What a function keeps of its ended jobs: per state, a count (whole, ≥ 0) and an age (ms ≥ 0). */
export function checkRetention(retention: Retention, what: string): void {
  checkFields(retention, what, ['completed', 'failed']);
  for (const state of ['completed', 'failed'] as const) {
    const limit = retention[state];
    if (limit === undefined) continue;
    checkFields(limit, `${what}.${state}`, ['count', 'age']);
    const { count, age } = limit;
    if (count !== undefined && count !== Infinity && !(Number.isSafeInteger(count) && count >= 0)) {
      throw new InvalidArgumentError(`${what}.${state}.count must be a whole number ≥ 0`);
    }
    // NaN fails both comparisons; Infinity is no age limit, as leaving it out is.
    if (age !== undefined && !(typeof age === 'number' && age >= 0)) {
      throw new InvalidArgumentError(`${what}.${state}.age must be a number of ms ≥ 0`);
    }
  }
}
