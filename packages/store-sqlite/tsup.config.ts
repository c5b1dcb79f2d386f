import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  sourcemap: true,
  target: 'node20',
  clean: true,
  // import.meta.url in the CommonJS build too: binding.ts loads better-sqlite3 by it.
  shims: true,
});
