import { InvalidArgumentError } from '../errors.js';
import { retriesOf, type Backoff, type JobPolicy, type Retries } from '../retry.js';
import type { FunctionSettings, SettingsChanges, SettingsRecord } from '../settings-types.js';
import type {
  FunctionControl,
  FunctionLimits,
  KeepLimit,
  QueueLimits,
  Retention,
} from '../types.js';
import { checkFields, checkOptions, checkRetention } from './checks.js';
import { checkLimits } from './gate.js';
import { QUEUE_KEYS, SETTINGS_KEYS } from './option-keys.js';

// A function's settings record (issue 30): the one rule by which a change is checked, merged
// into what was set before, and read with its defaults. The queues keep the records (the
// local one in memory and its store, the shared one in its backend); what a record puts in
// force on this node is derived from it in one place (settings.ts).

/** Changes checked, each in its one shape: what the queues and backends are given. */
export interface CheckedChanges {
  readonly attempts?: number | null;
  readonly backoff?: Backoff | null;
  readonly keep?: Retention | null;
  readonly rate?: FunctionLimits['rate'];
  readonly concurrency?: number | null;
  readonly maxQueue?: QueueLimits | null;
  readonly paused?: boolean | null;
}

/** What a function has when nothing was set for it: the server's defaults. */
export interface SettingsDefaults {
  readonly keep: Required<Retention>;
  readonly maxQueue: QueueLimits;
}

/** The settings of a record, in the order records are written (stable JSON for the stores). */
const FIELDS = [
  'attempts',
  'backoff',
  'keep',
  'rate',
  'concurrency',
  'maxQueue',
  'paused',
] as const satisfies readonly (keyof SettingsChanges)[];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The retry part of a function's policy, checked with the rest of it; null when it sets
 * none (one attempt). `what` names it in errors: a path into a config file, say.
 * @throws InvalidArgumentError
 */
export function retriesOfPolicy(policy: JobPolicy, what: string): Retries | null {
  checkFields(policy, what, ['attempts', 'backoff', 'keep']);
  if (policy.keep !== undefined) checkRetention(policy.keep, `${what}.keep`);
  if (policy.attempts === undefined && policy.backoff === undefined) return null;
  return retriesOf({ attempts: 1, ...policy });
}

/** Queue limits as given (a number for all three priorities, or some of them). */
export function limitsOf(value: number | Partial<QueueLimits> | undefined): QueueLimits {
  if (value === undefined) return { high: 0, normal: 0, low: 0 };
  if (typeof value === 'number') return { high: value, normal: value, low: value };
  checkOptions(value, 'queue limits (a number, or one per priority)', QUEUE_KEYS);
  return { high: value.high ?? 0, normal: value.normal ?? 0, low: value.low ?? 0 };
}

function checkQueueLimits(limits: QueueLimits, what: string): QueueLimits {
  for (const priority of ['high', 'normal', 'low'] as const) {
    const n = limits[priority];
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new InvalidArgumentError(`${what}.${priority} must be a whole number ≥ 0`);
    }
  }
  return limits;
}

/** A back-off as the record keeps it: an object of the fields given (no undefined ones). */
function backoffOf(given: Backoff | number): Backoff {
  const { backoff } = retriesOf({ attempts: 1, backoff: given });
  const out: Mutable<Backoff> = { type: backoff.type, delay: backoff.delay };
  if (backoff.max !== undefined) out.max = backoff.max;
  if (backoff.jitter !== undefined) out.jitter = backoff.jitter;
  return out;
}

/** A retention as the record keeps it: a copy, with the limits given. */
function retentionOf(keep: Retention, what: string): Retention {
  checkRetention(keep, what);
  const out: Mutable<Retention> = {};
  for (const state of ['completed', 'failed'] as const) {
    const limit = keep[state];
    if (limit === undefined) continue;
    const copy: Mutable<KeepLimit> = {};
    if (limit.count !== undefined) copy.count = limit.count;
    if (limit.age !== undefined) copy.age = limit.age;
    out[state] = copy;
  }
  return out;
}

/**
 * Checks changes given by an application (`configure`, a config file's entry) with the
 * checks each setting had alone, and brings each to one shape (copies: a caller that changes
 * its object later changes nothing here). `what` names them in errors.
 * @throws InvalidArgumentError (code INVALID_ARGUMENT)
 */
export function checkChanges(changes: SettingsChanges, what: string): CheckedChanges {
  if (changes === undefined) throw new InvalidArgumentError(`${what} must be an object`);
  checkOptions(changes, what, SETTINGS_KEYS);
  const out: Mutable<CheckedChanges> = {};
  const { attempts, backoff, keep, rate, concurrency, maxQueue, paused } = changes;
  if (attempts !== undefined) {
    out.attempts = attempts === null ? null : retriesOf({ attempts }).attempts;
  }
  if (backoff !== undefined) out.backoff = backoff === null ? null : backoffOf(backoff);
  if (keep !== undefined) out.keep = keep === null ? null : retentionOf(keep, `${what}.keep`);
  if (rate !== undefined || concurrency !== undefined) {
    const limits = checkLimits({ rate: rate ?? null, concurrency: concurrency ?? null });
    if (rate !== undefined) out.rate = limits.rate ?? null;
    if (concurrency !== undefined) out.concurrency = limits.concurrency ?? null;
  }
  if (maxQueue !== undefined) {
    out.maxQueue =
      maxQueue === null ? null : checkQueueLimits(limitsOf(maxQueue), `${what}.maxQueue`);
  }
  if (paused !== undefined) {
    if (paused !== null && typeof paused !== 'boolean') {
      throw new InvalidArgumentError(`${what}.paused must be true or false`);
    }
    out.paused = paused;
  }
  return out;
}

/**
 * The changes that set a function's whole policy (`setJobPolicy`, the admin `policy`
 * command): retries and retention, each left out being put back to its default.
 * @throws InvalidArgumentError
 */
export function policyChanges(policy: JobPolicy | null, what: string): CheckedChanges {
  if (policy === null) return { attempts: null, backoff: null, keep: null };
  retriesOfPolicy(policy, what);
  return checkChanges(
    {
      attempts: policy.attempts ?? null,
      backoff: policy.backoff ?? null,
      keep: policy.keep ?? null,
    },
    what,
  );
}

/** The changes that set a function's rate and concurrency (`setFunctionLimits`). */
export function limitsChanges(limits: FunctionLimits | null): CheckedChanges {
  const checked = checkLimits(limits ?? {});
  return { rate: checked.rate ?? null, concurrency: checked.concurrency ?? null };
}

/**
 * A record with changes merged in: a setting given replaces, null removes (its default
 * applies again), `paused: false` is no setting. Undefined when nothing is left set.
 */
export function merged(
  functionName: string,
  record: SettingsRecord | undefined,
  changes: CheckedChanges,
): SettingsRecord | undefined {
  const out: Record<string, unknown> = { functionName };
  let any = false;
  for (const field of FIELDS) {
    const given = changes[field];
    const value = given === undefined ? record?.[field] : given;
    if (value === undefined || value === null || value === false) continue;
    out[field] = value;
    any = true;
  }
  return any ? (out as unknown as SettingsRecord) : undefined;
}

/** A record as changes that replace every setting: what puts exactly it in force. */
export function changesOf(record: SettingsRecord | undefined): CheckedChanges {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) out[field] = record?.[field] ?? null;
  return out;
}

/** Whether two values of a setting (or two records) are the same: they are plain data. */
export function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A function's settings with their defaults. */
export function settingsOf(
  functionName: string,
  record: SettingsRecord | undefined,
  defaults: SettingsDefaults,
): FunctionSettings {
  return {
    functionName,
    attempts: record?.attempts ?? 1,
    backoff: record?.backoff ?? null,
    keep: {
      completed: record?.keep?.completed ?? defaults.keep.completed,
      failed: record?.keep?.failed ?? defaults.keep.failed,
    },
    rate: record?.rate ?? null,
    concurrency: record?.concurrency ?? null,
    maxQueue: record?.maxQueue ?? defaults.maxQueue,
    paused: record?.paused ?? false,
    configured: record ?? { functionName },
  };
}

const NO_WAIT: Backoff = { type: 'fixed', delay: 0 };

/** The function's retry policy, or null while neither attempts nor a back-off is set. */
export function retriesOfRecord(record: SettingsRecord | undefined): Retries | null {
  if (record?.attempts === undefined && record?.backoff === undefined) return null;
  return { attempts: record.attempts ?? 1, backoff: record.backoff ?? NO_WAIT };
}

/** The policy part of a record, as `jobPolicy` reads it (null: none set). */
export function policyOf(record: SettingsRecord | undefined): JobPolicy | null {
  const retries = retriesOfRecord(record);
  const keep = record?.keep;
  if (retries === null && keep === undefined) return null;
  return { ...(retries ?? {}), ...(keep === undefined ? {} : { keep }) };
}

/** The pause and limits of a record, as `controls()` lists them and old stores keep them. */
export function controlOf(record: SettingsRecord): FunctionControl {
  return {
    functionName: record.functionName,
    paused: record.paused ?? false,
    rate: record.rate ?? null,
    concurrency: record.concurrency ?? null,
  };
}

/** Whether a record pauses or limits its function (what `controls()` lists). */
export function isControlled(record: SettingsRecord): boolean {
  return record.paused === true || record.rate !== undefined || record.concurrency !== undefined;
}

/** A control kept by a store without settings records, as a record. */
export function recordOfControl(control: FunctionControl): SettingsRecord | undefined {
  return merged(control.functionName, undefined, {
    paused: control.paused,
    rate: control.rate,
    concurrency: control.concurrency,
  });
}

/** Records in the order every listing gives them: by function name. */
export function byName(a: { functionName: string }, b: { functionName: string }): number {
  return a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0;
}
