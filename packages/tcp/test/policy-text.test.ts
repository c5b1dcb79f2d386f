import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobPolicy } from '@geartrain/core';
import { formatPolicy, parsePolicy } from '../src/policy-text.js';

describe('the text form of a job policy', () => {
  it('reads retries and retention, each part optional', () => {
    expect(parsePolicy(['attempts=3,backoff=exponential,delay=1000,max=60000'])).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000, max: 60000, jitter: undefined },
    });
    expect(parsePolicy(['keep-completed=10000,keep-failed=all,keep-failed-age=3600000'])).toEqual({
      keep: { completed: { count: 10000 }, failed: { count: Infinity, age: 3600000 } },
    });
    // An age alone keeps any number for that long, as `{ age }` does in the API.
    expect(parsePolicy(['attempts=2', 'keep-failed-age=60000'])).toEqual({
      attempts: 2,
      backoff: { type: 'fixed', delay: 0, max: undefined, jitter: undefined },
      keep: { failed: { count: Infinity, age: 60000 } },
    });
    expect(parsePolicy(['none'])).toBeNull();
  });

  it('says what is wrong with a setting, by its name in the text', () => {
    expect(parsePolicy(['tries=3'])).toMatch(/^unknown setting 'tries=3'/);
    expect(parsePolicy(['attempts=2,keep-completed='])).toBe('keep-completed= needs a value');
    expect(parsePolicy([])).toMatch(/^a policy needs settings/);
    expect(parsePolicy(['delay=100'])).toMatch(/^attempts=N is needed/);
    expect(parsePolicy(['attempts=2,backoff=linear'])).toMatch(/^backoff is fixed or exponential/);
    expect(parsePolicy(['keep-failed=lots'])).toBe(
      "keep-failed is a count (a whole number ≥ 0, or all), not 'lots'",
    );
    expect(parsePolicy(['keep-completed=1.5'])).toMatch(/^keep-completed is a count/);
    expect(parsePolicy(['keep-completed-age=-1'])).toBe(
      "keep-completed-age is in ms (≥ 0), not '-1'",
    );
  });

  it('shows what it reads: format then parse gives the same policy back', () => {
    const count = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.constant(Infinity));
    const limit = fc.record(
      { count, age: fc.integer({ min: 0, max: 1e9 }) },
      { requiredKeys: ['count'] },
    );
    const policy = fc.record(
      {
        attempts: fc.integer({ min: 1, max: 20 }),
        backoff: fc.record(
          {
            type: fc.constantFrom('fixed' as const, 'exponential' as const),
            delay: fc.integer({ min: 0, max: 1e6 }),
            max: fc.integer({ min: 0, max: 1e7 }),
            jitter: fc.constantFrom(0.1, 0.25, 0.5, 1),
          },
          { requiredKeys: ['type', 'delay'] },
        ),
        keep: fc.record({ completed: limit, failed: limit }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(policy, (given: JobPolicy) => {
        const text = formatPolicy(given);
        const read = parsePolicy([text]);
        // What the text cannot say is what the server does anyway: no retry part is one
        // attempt, an empty retention is the server's.
        const hasRetry = given.attempts !== undefined || given.backoff !== undefined;
        const hasKeep = given.keep?.completed !== undefined || given.keep?.failed !== undefined;
        if (!hasRetry && !hasKeep) {
          expect(read).toBeNull();
          return;
        }
        expect(read).not.toBeTypeOf('string');
        const policyRead = read as JobPolicy;
        expect(formatPolicy(policyRead)).toBe(text);
        if (hasRetry) {
          expect(policyRead.attempts).toBe(given.attempts ?? 1);
          expect(policyRead.backoff).toMatchObject(
            typeof given.backoff === 'object' ? { ...given.backoff } : { type: 'fixed', delay: 0 },
          );
        } else expect(policyRead.attempts).toBeUndefined();
        expect(policyRead.keep).toEqual(hasKeep ? given.keep : undefined);
      }),
      { numRuns: 300 },
    );
  });
});
