import { defineConfig } from 'vitest/config';

// One vitest project per package, plus the cross-package `test/` folder.
// Every project resolves workspace packages to their TypeScript sources through
// the `@geartrain/source` export condition, so tests never need a build first.
const sourceCondition = ['@geartrain/source'];

function project(name: string, root: string, include = ['test/**/*.test.ts']) {
  return { extends: true as const, test: { name, root, include } };
}

export default defineConfig({
  resolve: { conditions: sourceCondition },
  ssr: { resolve: { conditions: sourceCondition } },
  test: {
    projects: [
      project('protocol', 'packages/protocol'),
      project('core', 'packages/core'),
      project('tcp', 'packages/tcp'),
      project('client', 'packages/client'),
      project('threads', 'packages/threads'),
      project('testing', 'packages/testing'),
      project('store-sqlite', 'packages/store-sqlite'),
      project('postgres', 'packages/postgres'),
      project('dashboard', 'packages/dashboard'),
      project('cli', 'packages/cli'),
      project('e2e', 'test', ['**/*.test.ts']),
    ],
    testTimeout: 20_000,
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
});
