import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
