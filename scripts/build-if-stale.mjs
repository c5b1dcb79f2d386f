// Builds the packages `geartrain serve` runs from, and only those whose sources changed since
// their last build, so that a second `npm start` is listening within a second or two instead
// of after the whole monorepo's build (~25 s). Usage: node scripts/build-if-stale.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// In build order: each is built after what it imports.
const PACKAGES = ['protocol', 'core', 'store-sqlite', 'tcp'];

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

let rebuiltBefore = false;
for (const name of PACKAGES) {
  const dir = join(root, 'packages', name);
  const inputs = Math.max(
    newest(join(dir, 'src')),
    newest(join(dir, 'package.json')),
    newest(join(dir, 'tsup.config.ts')),
  );
  // A package is rebuilt when its sources are newer than its build, or when one it bundles
  // was rebuilt just now.
  if (!rebuiltBefore && oldestOutput(join(dir, 'dist')) > inputs) continue;
  const result = spawnSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  rebuiltBefore = true;
}
