import { defineConfig } from 'vitest/config';

// One vitest project per package, plus the cross-package `test/` folder.
// Every project resolves workspace packages to their TypeScript sources through
// the `@geartrain/source` export condition, so tests never need a build first.
const sourceCondition = ['@geartrain/source'];

function project(name: string, root: string, include = ['test/**/*.test.ts']) {
  return { extends: true as const, test: { name, root, include } };
}

// Core's behaviour tests, its model tests and the testing package's doubles run twice: on the
// local queue (the projects above) and on a shared queue, each server a node of the
// in-memory double of a shared queue's backend (decision 33). Core's tests make their
// servers through a factory that the shared project's setup file gives them (core cannot
// import @geartrain/testing); a case that cannot hold there is skipped with its reason.
const CORE_ON_BOTH = [
  'api',
  'burst',
  'controls',
  'model',
  'options',
  'outcome-ring',
  'outcomes',
  'retries',
  'retry-model',
  'schedules',
  'semantics',
  'smoke',
  'time',
  'timings',
  'wakeups',
].map((name) => `test/${name}.test.ts`);

function onSharedQueue(name: string, root: string, include: string[], setupFiles: string[] = []) {
  return {
    extends: true as const,
    test: { name, root, include, setupFiles, provide: { queue: 'shared' as const } },
  };
}

export default defineConfig({
  resolve: { conditions: sourceCondition },
  ssr: { resolve: { conditions: sourceCondition } },
  test: {
    projects: [
      project('protocol', 'packages/protocol'),
      project('core', 'packages/core'),
      onSharedQueue('core-shared', 'packages/core', CORE_ON_BOTH, [
        '../../test/support/queues/shared-queue.ts',
      ]),
      project('tcp', 'packages/tcp'),
      project('client', 'packages/client'),
      project('threads', 'packages/threads'),
      project('testing', 'packages/testing'),
      onSharedQueue('testing-shared', 'packages/testing', ['test/doubles.test.ts']),
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
