// Gives the declaration chunks tsup writes a name instead of a hash. With two entries
// (`.` and `/transport`), tsup's declaration bundler (rollup) puts the types both share in a
// chunk named `NAME-HASH.d.ts` (tsup 8 hard-codes that pattern), and every type a user hovers
// or reads in an error message then comes from, say, `policies-CNougW6_.d.ts`. This renames
// such chunks to `types.d.ts` / `types.d.cts` (`types-NAME` when there are several) and
// rewrites the imports of the other declaration files. Run in a package folder after tsup:
// `tsup && node ../../scripts/name-type-chunks.mjs`.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(process.cwd(), 'dist');
// rollup's hash: 8 characters of base64url. An entry is never named so.
const CHUNK = /^(.+)-([A-Za-z0-9_-]{8})\.d\.(ts|cts|mts)$/;

const files = readdirSync(dist);
const chunks = files.flatMap((file) => {
  const match = CHUNK.exec(file);
  return match === null ? [] : [{ file, name: match[1], ext: match[3] }];
});
const renames = new Map(); // old specifier stem → new one, e.g. policies-CNougW6_ → types
for (const ext of ['ts', 'cts', 'mts']) {
  const ofExt = chunks.filter((chunk) => chunk.ext === ext);
  for (const chunk of ofExt) {
    const stem = ofExt.length === 1 ? 'types' : `types-${chunk.name}`;
    const target = `${stem}.d.${ext}`;
    if (files.includes(target) && target !== chunk.file) {
      throw new Error(`name-type-chunks: dist/${target} exists already`);
    }
    renameSync(join(dist, chunk.file), join(dist, target));
    renames.set(chunk.file.slice(0, -`.d.${ext}`.length), stem);
  }
}
if (renames.size > 0) {
  for (const file of readdirSync(dist).filter((f) => /\.d\.(ts|cts|mts)$/.test(f))) {
    const path = join(dist, file);
    const text = readFileSync(path, 'utf8');
    const next = text.replace(/(['"])\.\/([^'"]+)\.(js|cjs|mjs)\1/g, (whole, quote, stem, ext) =>
      renames.has(stem) ? `${quote}./${renames.get(stem)}.${ext}${quote}` : whole,
    );
    if (next !== text) writeFileSync(path, next);
  }
}
