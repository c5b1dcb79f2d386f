import { defineConfig } from 'tsup';

const shared = { sourcemap: true, target: 'node20', shims: true } as const;

export default defineConfig([
  {
    ...shared,
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
    clean: true,
  },
  // The entry each worker thread runs: plain ESM, loaded by `new Worker()`. It is one file
  // with the little it takes from @geartrain/protocol (the error brand): a thread starts
  // without resolving packages, whatever conditions its parent runs under.
  {
    ...shared,
    entry: ['src/thread.ts'],
    format: ['esm'],
    noExternal: ['@geartrain/protocol'],
    esbuildOptions(options) {
      options.conditions = ['@geartrain/source'];
    },
  },
]);
