import { defineConfig } from 'tsup';

export default defineConfig({
  // Two faces: the application's entry and the adapters' (`@geartrain/core/transport`).
  // Shared code goes in chunks both import (in CommonJS too), so each class exists once.
  entry: ['src/index.ts', 'src/transport.ts'],
  format: ['esm', 'cjs'],
  splitting: true,
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  esbuildOptions(options) {
    // The shared chunk by a name, not esbuild's chunk-HASH: with two entries there is at most
    // one (a second would fail the build on the name, not pass unseen). The declarations'
    // shared chunk is named by scripts/name-type-chunks.mjs, after tsup (package.json build).
    options.chunkNames = 'shared';
  },
  // leven (ESM only, a few lines) is bundled: the did-you-mean of refused options costs
  // applications no dependency, and the CommonJS build needs no require() of ESM.
  noExternal: ['leven'],
});
