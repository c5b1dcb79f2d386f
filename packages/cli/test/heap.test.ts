import { describe, expect, it } from 'vitest';
import { keepYoungGenerationSmall } from '../src/heap.js';

// The case that sets the flag runs in test/cli.test.ts, in a `geartrain serve` process:
// setting it here would change this test process's heap.
describe('keepYoungGenerationSmall', () => {
  it("leaves a young generation sized by the user's node flags or NODE_OPTIONS alone", () => {
    for (const [execArgv, nodeOptions] of [
      [['--max-semi-space-size=16'], ''],
      [['--max_semi_space_size=8'], ''],
      [['--inspect', '--min-semi-space-size=2'], ''],
      [[], '--semi-space-growth-factor=2'],
      [['--max-old-space-size=512'], '--enable-source-maps --semi_space_growth_factor=4'],
    ] as const) {
      expect(keepYoungGenerationSmall(execArgv, nodeOptions)).toBe(false);
    }
  });
});
