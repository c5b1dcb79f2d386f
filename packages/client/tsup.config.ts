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
  esbuildOptions(options) {
    // The shared chunk by a name, not esbuild's chunk-HASH: with two entries there is at most
    // one (a second would fail the build on the name, not pass unseen). The declarations'
    // shared chunk is named by scripts/name-type-chunks.mjs, after tsup (package.json build).
    options.chunkNames = 'shared';
  },
});
