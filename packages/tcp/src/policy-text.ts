import type { Backoff, JobPolicy, KeepLimit, Retention } from '@geartrain/core';

// One text form of a function's whole policy, for the `policy` admin command and the
// command's --job-policy flag: what the server retries and what it keeps, as in
// `attempts=3,backoff=exponential,delay=1000,max=60000,jitter=0.2,keep-completed=10000,
// keep-failed=1000,keep-failed-age=604800000`. Each part may be left out: without
// `attempts` the jobs are tried once, without `keep-…` the server's retention applies;
// `none` means neither. Setting a policy replaces the whole of it, as `setJobPolicy` does,
// so what `policy FN` shows can be edited and given back. Commas, not spaces: gearmand's
// admin lines take at most five tokens, and a longer one closes the connection, so the
// settings are one token.

const RETRY_KEYS = ['attempts', 'backoff', 'delay', 'max', 'jitter'];
const STATES = ['completed', 'failed'] as const;
const KEEP_KEYS = STATES.flatMap((state) => [`keep-${state}`, `keep-${state}-age`]);
const USAGE =
  'attempts=N,backoff=fixed|exponential,delay=MS,max=MS,jitter=0..1,' +
  'keep-completed=N|all,keep-completed-age=MS,keep-failed=N|all,keep-failed-age=MS, or none';

/** Reads `key=value` settings; returns the policy, null for `none`, or what is wrong. */
export function parsePolicy(tokens: readonly string[]): JobPolicy | null | string {
  const settings = tokens.flatMap((t) => t.split(',')).filter((t) => t !== '');
  if (settings.length === 1 && settings[0]!.toLowerCase() === 'none') return null;
  const values = new Map<string, string>();
  for (const setting of settings) {
    const at = setting.indexOf('=');
    const key = at < 0 ? '' : setting.slice(0, at).toLowerCase();
    if (!RETRY_KEYS.includes(key) && !KEEP_KEYS.includes(key)) {
      return `unknown setting '${setting}' (${USAGE})`;
    }
    const value = setting.slice(at + 1);
    // Number('') is 0: `keep-completed=` would keep nothing rather than be refused.
    if (value === '') return `${key}= needs a value`;
    values.set(key, value);
  }
  if (values.size === 0) return `a policy needs settings (${USAGE})`;
  const number = (key: string): number | undefined => {
    const text = values.get(key);
    return text === undefined ? undefined : Number(text);
  };
  let policy: { attempts?: number; backoff?: Backoff; keep?: Retention } = {};
  if (RETRY_KEYS.some((key) => values.has(key))) {
    const attempts = number('attempts');
    if (attempts === undefined) return 'attempts=N is needed with a back-off';
    const type = values.get('backoff') ?? 'fixed';
    if (type !== 'fixed' && type !== 'exponential')
      return `backoff is fixed or exponential, not '${type}'`;
    const delay = number('delay') ?? 0;
    policy = { attempts, backoff: { type, delay, max: number('max'), jitter: number('jitter') } };
  }
  const keep: { completed?: KeepLimit; failed?: KeepLimit } = {};
  for (const state of STATES) {
    const countText = values.get(`keep-${state}`);
    const age = number(`keep-${state}-age`);
    if (countText === undefined && age === undefined) continue;
    const count = countText === undefined || countText === 'all' ? Infinity : Number(countText);
    if (!(count === Infinity || (Number.isSafeInteger(count) && count >= 0)))
      return `keep-${state} is a count (a whole number ≥ 0, or all), not '${countText}'`;
    if (age !== undefined && !(age >= 0))
      return `keep-${state}-age is in ms (≥ 0), not '${values.get(`keep-${state}-age`)}'`;
    keep[state] = age === undefined ? { count } : { count, age };
  }
  if (keep.completed !== undefined || keep.failed !== undefined) policy.keep = keep;
  return policy;
}

/** The text form of a policy (the reverse of parsePolicy). */
export function formatPolicy(policy: JobPolicy | null): string {
  if (policy === null) return 'none';
  const parts: string[] = [];
  if (policy.attempts !== undefined || policy.backoff !== undefined) {
    const backoff: Backoff =
      typeof policy.backoff === 'number'
        ? { type: 'fixed', delay: policy.backoff }
        : (policy.backoff ?? { type: 'fixed', delay: 0 });
    parts.push(`attempts=${policy.attempts ?? 1}`, `backoff=${backoff.type}`);
    parts.push(`delay=${backoff.delay}`);
    if (backoff.max !== undefined) parts.push(`max=${backoff.max}`);
    if (backoff.jitter !== undefined && backoff.jitter !== 0)
      parts.push(`jitter=${backoff.jitter}`);
  }
  for (const state of STATES) {
    const limit = policy.keep?.[state];
    if (limit === undefined) continue;
    // No count is no count limit.
    const count = limit.count ?? Infinity;
    parts.push(`keep-${state}=${count === Infinity ? 'all' : count}`);
    if (limit.age !== undefined && limit.age !== Infinity)
      parts.push(`keep-${state}-age=${limit.age}`);
  }
  return parts.length === 0 ? 'none' : parts.join(',');
}
