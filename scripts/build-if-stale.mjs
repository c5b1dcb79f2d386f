// Builds the packages `geartrain serve` runs from, and only those whose sources changed since
// their last build, so that a second `npm start` is listening within a second or two instead
// of after the whole monorepo's build (~25 s). Usage: node scripts/build-if-stale.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// In build order, each with the packages whose sources its build reads: the command
// (packages/cli) bundles protocol, core and tcp from their sources; the store, the shared
// queue (loaded with --store postgres://) and the dashboard (loaded with --http) are
// imported from their builds, and import protocol's and core's.
const PACKAGES = [
  { name: 'protocol', reads: [] },
  { name: 'core', reads: [] },
  { name: 'store-sqlite', reads: [] },
  { name: 'postgres', reads: [] },
  { name: 'dashboard', reads: [] },
  { name: 'cli', reads: ['protocol', 'core', 'tcp'] },
];

/** The newest modification time under `path` (a file or a folder), 0 if it is missing. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let time = 0;
  for (const entry of readdirSync(path)) time = Math.max(time, newest(join(path, entry)));
  return time;
}

/** The oldest modification time of the files in `dist`, or 0 when there is no build. */
function oldestOutput(dist) {
  if (!existsSync(dist)) return 0;
  const times = readdirSync(dist).map((entry) => statSync(join(dist, entry)).mtimeMs);
  return times.length === 0 ? 0 : Math.min(...times);
}

/** When the sources a package's build reads last changed. */
function inputs(name) {
  const dir = join(root, 'packages', name);
  // The dashboard's page has a folder and a tsup config of its own.
  const configs = readdirSync(dir).filter((entry) => /^tsup\..*ts$/.test(entry));
  return Math.max(
    ...['src', 'page', 'package.json', ...configs].map((entry) => newest(join(dir, entry))),
  );
}

let rebuiltBefore = false;
for (const { name, reads } of PACKAGES) {
  const dir = join(root, 'packages', name);
  const changed = Math.max(inputs(name), ...reads.map(inputs));
  // A package is rebuilt when its sources are newer than its build, or when one it imports
  // was rebuilt just now.
  if (!rebuiltBefore && oldestOutput(join(dir, 'dist')) > changed) continue;
  // The package's own build script: its tsup configs, and what follows them (core's and
  // client's name their declaration chunks, scripts/name-type-chunks.mjs).
  const result = spawnSync('npm', ['run', '-s', 'build', '-w', dir], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  rebuiltBefore = true;
}
