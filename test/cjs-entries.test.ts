// Every package's CommonJS build loads with `require` in a plain Node process (ESM is what
// the other tests import): a build that leaves `import.meta` empty, say, fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run } from './support/interop.js';

const packages = join(import.meta.dirname, '..', 'packages');
// Those with an entry to import: packages/cli is the command only.
const libraries = readdirSync(packages).filter(
  (name) =>
    (JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8')) as { main?: string })
      .main !== undefined,
);

it.each(libraries)('@geartrain/%s loads through require()', async (name) => {
  const entry = join(packages, name, 'dist', 'index.cjs');
  const { stdout } = await run(
    process.execPath,
    ['-e', `console.log(Object.keys(require(${JSON.stringify(entry)})).length)`],
    { timeout: 20_000 },
  );
  expect(Number(stdout.toString().trim())).toBeGreaterThan(0);
});
