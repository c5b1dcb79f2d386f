import { defineConfig } from 'tsup';

const shared = { sourcemap: true, target: 'node20' } as const;

export default defineConfig([
  {
    ...shared,
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
    clean: true,
  },
  // The command: ESM only (top-level await), with its shebang.
  { ...shared, entry: ['src/cli.ts'], format: ['esm'] },
]);
