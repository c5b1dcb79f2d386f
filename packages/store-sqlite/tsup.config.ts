import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // stripInternal: the @internal `migrations` option (tests of migrations) is the only place
  // the public types would name better-sqlite3's, whose types are a devDependency; a user
  // type-checking with skipLibCheck false would get TS7016 for them.
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false, stripInternal: true } },
  sourcemap: true,
  target: 'node20',
  clean: true,
  // import.meta.url in the CommonJS build too: binding.ts loads better-sqlite3 by it.
  shims: true,
});
