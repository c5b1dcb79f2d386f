import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

const shared = { sourcemap: true, target: 'node20' } as const;

// rxjs's package exports hand Node its CommonJS barrel, which loads every operator (~60 ms
// at start-up); its ES build lets esbuild keep only what geartrain uses.
const rxjsEsm = join(
  dirname(createRequire(import.meta.url).resolve('rxjs/package.json')),
  'dist/esm/index.js',
);

export default defineConfig([
  {
    ...shared,
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
    clean: true,
  },
  // The command: ESM only (top-level await), with its shebang. It is one tree-shaken file
  // with core, protocol and the parts of rxjs it uses, so `geartrain serve` starts fast
  // (decision 18); pino stays a dependency, imported only when something is logged.
  {
    ...shared,
    entry: ['src/cli.ts'],
    format: ['esm'],
    // The SQLite store stays a package of its own: it loads a native module, better-sqlite3,
    // which it resolves itself, and only when a file store is used. The dashboard too: it
    // brings prom-client (CommonJS), loaded only with --http.
    noExternal: [/^@geartrain\/(?!store-sqlite|dashboard)/, 'rxjs'],
    esbuildOptions(options) {
      options.conditions = ['@geartrain/source'];
      options.alias = { rxjs: rxjsEsm };
    },
  },
]);
