import { InvalidArgumentError } from '@geartrain/core';
import { describe, expect, it } from 'vitest';
import { createFakeClient, createTestServer, runJob } from '../src/index.js';

// What the test doubles' entries refuse (decision 31): a mistyped key would otherwise make a
// test pass for the wrong reason (a `startat` ignored, a fake without its clock).

const bad = (value: unknown) => value as never;

describe('options of the test doubles', () => {
  it('refuses keys their entries do not know, with a did-you-mean', async () => {
    expect(() => createTestServer(bad({ startat: 0 }))).toThrow(
      new InvalidArgumentError(
        "unknown option 'startat' in test server options (did you mean 'startAt'?)",
      ),
    );
    // The virtual clock is the point of a test server: a scheduler is not an option of it.
    expect(() => createTestServer(bad({ scheduler: null }))).toThrow(/unknown option 'scheduler'/);
    expect(() => createFakeClient(bad({ exception: false }))).toThrow(
      /unknown option 'exception' in fake client options \(did you mean 'exceptions'\?\)/,
    );
    expect(() => runJob(() => 'x', '', bad({ atempt: 2 }))).toThrow(
      /unknown option 'atempt' in runJob options \(did you mean 'attempt'\?\)/,
    );
    // What goes through the doubles is checked as the real client checks it.
    const fake = createFakeClient();
    await expect(fake.submit('f', 'x', bad({ priority: 'urgent' }))).rejects.toThrow(
      /^priority must be/,
    );
    expect(fake.submissions).toEqual([]);
    const t = createTestServer({ startAt: 5 });
    await expect(t.client().submit('f', 'x', bad({ delai: 5 }))).rejects.toThrow(
      /did you mean 'delay'\?/,
    );
    expect(t.now()).toBe(5);
    await t.close();
  });
});
