#!/usr/bin/env node
// The `geartrain` command. This small file is committed so that `npm ci` in a clone links
// it into node_modules/.bin (npm links a bin only if its file exists at install time, and
// dist/ is made later by the build): `npx geartrain` then runs this clone's build and never
// asks the registry for a package of that name. The command itself is dist/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `geartrain: the command is not built (${fileURLToPath(cli)} is missing): ` +
      'run `npm run build` at the root of the repository\n',
  );
  process.exit(1);
}
await import(cli.href);
