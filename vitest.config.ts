import { defineConfig } from 'vitest/config';

// One vitest project per package, plus the cross-package `test/` folder.
// Every project resolves workspace packages to their TypeScript sources through
// the `@geartrain/source` export condition, so tests never need a build first.
const sourceCondition = ['@geartrain/source'];

function project(name: string, root: string) {
  return {
    extends: true as const,
    test: { name, root, include: ['test/**/*.test.ts'] },
  };
}

export default defineConfig({
  resolve: { conditions: sourceCondition },
  ssr: { resolve: { conditions: sourceCondition } },
  test: {
    projects: [project('protocol', 'packages/protocol')],
    testTimeout: 20_000,
  },
});
