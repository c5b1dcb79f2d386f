// Every package's CommonJS build loads with `require` in a plain Node process (ESM is what
// the other tests import): a build that leaves `import.meta` empty, say, fails here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run } from './support/interop.js';

const packages = join(import.meta.dirname, '..', 'packages');

it.each(readdirSync(packages))('@geartrain/%s loads through require()', async (name) => {
  const entry = join(packages, name, 'dist', 'index.cjs');
  const { stdout } = await run(
    process.execPath,
    ['-e', `console.log(Object.keys(require(${JSON.stringify(entry)})).length)`],
    { timeout: 20_000 },
  );
  expect(Number(stdout.toString().trim())).toBeGreaterThan(0);
});
