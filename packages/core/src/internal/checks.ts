import { closestMatch } from 'leven';
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
 * For a method that returns a Promise (decision 31: it rejects rather than throws): the
 * rejection when `check` refuses its arguments, else null.
 */
export function refusal(check: () => void): Promise<never> | null {
  try {
    check();
    return null;
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The keys an options type has, listed once. The mapped type makes the compiler hold the
 * list to the type: a key missing from it, or one the type lacks, does not compile. Kept as
 * an object without a prototype: a property look-up is cheaper than `Set.has` on the hot
 * path, and `toString` is no key of it.
 */
export type KnownKeys = Readonly<Record<string, true>>;

export function knownKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): KnownKeys {
  return Object.assign(Object.create(null) as Record<string, true>, keys);
}

/**
 * An options argument: an object, or undefined for the defaults. `null` passes a default
 * parameter by, so it would otherwise end as a TypeError deep inside. With `known`, a key
 * that is not one of them is refused rather than ignored (decision 31): `{ delai: 5 }`
 * would otherwise run the job at once without a word. `for…in` rather than `Object.keys`:
 * no array is made, and this runs on every submit.
 */
export function checkOptions(value: unknown, what = 'options', known?: KnownKeys): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object`);
  }
  if (known === undefined) return;
  for (const key in value) if (known[key] !== true) refuseKey(key, what, known);
}

/**
 * Refuses an option `known` lacks. Hot paths (submit) loop over their keys themselves and
 * call this: a `for…in` of their own sees only their own shapes and stays fast, where one
 * shared by every options object of the API costs several times more.
 */
export function refuseKey(key: string, what: string, known: KnownKeys): never {
  throw new InvalidArgumentError(unknownKey(key, what, Object.keys(known), 'option'));
}

/**
 * A policy-like object given by an application: an object whose keys are all `known`. A key
 * it does not know is refused rather than ignored: `{ complete: … }` for `completed` would
 * otherwise keep nothing without a word.
 */
export function checkFields(value: unknown, what: string, known: readonly string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(unknownKey(key, what, known, 'setting'));
    }
  }
}

/** `unknown option 'delai' in submit options (did you mean 'delay'?)`, else the known ones. */
function unknownKey(key: string, what: string, names: readonly string[], kind: string): string {
  const near = closest(key, names);
  const hint = near === undefined ? `known: ${names.join(', ')}` : `did you mean '${near}'?`;
  return `unknown ${kind} '${key}' in ${what} (${hint})`;
}

/**
 * The known name nearest to a mistyped one, if near enough to be what was meant: the same
 * but for case, else within leven's edit distance as the command's options use it
 * (`packages/cli`: at least 2, a third of the length for long names).
 */
function closest(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = names.find((name) => name.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  return closestMatch(key, names, { maxDistance: Math.max(2, Math.floor(key.length / 3)) });
}

/** A job's priority: one of the three names, as given (no case folding, no trimming). */
export function checkPriority(priority: unknown): void {
  if (
    priority !== undefined &&
    priority !== 'normal' &&
    priority !== 'high' &&
    priority !== 'low'
  ) {
    throw new InvalidArgumentError(
      `priority must be 'high', 'normal' or 'low', not ${valueText(priority)}`,
    );
  }
}

/** A value as an error message shows it: strings quoted, the rest as JSON would. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return typeof value;
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
