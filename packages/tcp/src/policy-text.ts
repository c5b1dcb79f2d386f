import type { Backoff, JobPolicy } from '@geartrain/core';

// One text form of a function's retry policy, for the `policy` admin command and the
// command's --job-policy flag: `attempts=3,backoff=exponential,delay=1000,max=60000,jitter=0.2`
// (backoff, delay, max and jitter may be left out; `none` means no policy). Commas, not
// spaces: gearmand's admin lines take at most five tokens, and a longer one closes the
// connection, so the settings are one token.

/** Reads `key=value` settings; returns the policy, null for `none`, or what is wrong. */
export function parsePolicy(tokens: readonly string[]): JobPolicy | null | string {
  const settings = tokens.flatMap((t) => t.split(',')).filter((t) => t !== '');
  if (settings.length === 1 && settings[0]!.toLowerCase() === 'none') return null;
  const values = new Map<string, string>();
  for (const setting of settings) {
    const at = setting.indexOf('=');
    const key = at < 0 ? '' : setting.slice(0, at).toLowerCase();
    if (!['attempts', 'backoff', 'delay', 'max', 'jitter'].includes(key)) {
      return `unknown setting '${setting}' (attempts=N,backoff=fixed|exponential,delay=MS,max=MS,jitter=0..1, or none)`;
    }
    values.set(key, setting.slice(at + 1));
  }
  const number = (key: string): number | undefined => {
    const text = values.get(key);
    return text === undefined ? undefined : Number(text);
  };
  const attempts = number('attempts');
  if (attempts === undefined) return 'attempts=N is needed';
  const type = values.get('backoff') ?? 'fixed';
  if (type !== 'fixed' && type !== 'exponential')
    return `backoff is fixed or exponential, not '${type}'`;
  const delay = number('delay') ?? 0;
  const backoff: Backoff = { type, delay, max: number('max'), jitter: number('jitter') };
  return { attempts, backoff };
}

/** The text form of a policy (the reverse of parsePolicy). */
export function formatPolicy(policy: JobPolicy | null): string {
  if (policy === null) return 'none';
  const backoff: Backoff =
    typeof policy.backoff === 'number'
      ? { type: 'fixed', delay: policy.backoff }
      : (policy.backoff ?? { type: 'fixed', delay: 0 });
  let text = `attempts=${policy.attempts},backoff=${backoff.type},delay=${backoff.delay}`;
  if (backoff.max !== undefined) text += `,max=${backoff.max}`;
  if (backoff.jitter !== undefined && backoff.jitter !== 0) text += `,jitter=${backoff.jitter}`;
  return text;
}
