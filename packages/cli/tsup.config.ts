import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

// rxjs's package exports hand Node its CommonJS barrel, which loads every operator (~60 ms
// at start-up); its ES build lets esbuild keep only what geartrain uses.
const rxjsEsm = join(
  dirname(createRequire(import.meta.url).resolve('rxjs/package.json')),
  'dist/esm/index.js',
);

// The command: ESM only (top-level await). It is one tree-shaken file with core, protocol,
// tcp and the parts of rxjs it uses, read from their sources, so `geartrain serve` starts
// fast (decision 18) and builds without the other packages' builds; pino stays a
// dependency, imported only when something is logged. bin/geartrain.js imports it.
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  sourcemap: true,
  target: 'node20',
  clean: true,
  // The SQLite store stays a package of its own: it loads a native module, better-sqlite3,
  // which it resolves itself, and only when a file store is used. The dashboard too: it
  // brings prom-client (CommonJS), loaded only with --http; and the shared queue, which
  // brings node-postgres, loaded only with --store postgres://.
  noExternal: [/^@geartrain\/(?!store-sqlite|dashboard|postgres)/, 'rxjs', 'leven'],
  esbuildOptions(options) {
    options.conditions = ['@geartrain/source'];
    options.alias = { rxjs: rxjsEsm };
  },
});
