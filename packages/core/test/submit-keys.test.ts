import { describe, expect, it } from 'vitest';
import { submitKey } from '../src/client.js';
import { SUBMIT_KEYS, TASK_KEYS } from '../src/internal/option-keys.js';

// submitKey is the submit path's fast form of the key lists: the two must agree.
describe('submit and task keys', () => {
  it('accepts exactly the keys of SUBMIT_KEYS for a submission and TASK_KEYS for a task', () => {
    const candidates = [
      ...Object.keys(SUBMIT_KEYS),
      ...Object.keys(TASK_KEYS),
      'delai',
      'priorty',
      'reducer',
      'retry',
      'toString',
      '__proto__',
      '',
    ];
    for (const key of candidates) {
      expect(submitKey(key, false), `submit ${key}`).toBe(Object.hasOwn(SUBMIT_KEYS, key));
      expect(submitKey(key, true), `task ${key}`).toBe(Object.hasOwn(TASK_KEYS, key));
    }
  });
});
