import { defineConfig } from 'tsup';

export default defineConfig({
  // Two faces: the application's entry and `@geartrain/client/transport`; shared code goes
  // in chunks both import (in CommonJS too), so each class exists once.
  entry: ['src/index.ts', 'src/transport.ts'],
  format: ['esm', 'cjs'],
  splitting: true,
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  sourcemap: true,
  target: 'node20',
  clean: true,
});
