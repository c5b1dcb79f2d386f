// Installs the benchmarks' own dependencies (BullMQ, piscina, fastq, the npm `gearman`
// client …) into bench/node_modules on first use. They are not part of the repository's
// `npm ci`: a user of geartrain never needs them, and they took most of that install's time.
// The geartrain packages themselves resolve from the repository's node_modules (the parent
// folder), built by `npm run build`. Output goes to stderr: stdout carries the JSON lines.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = fileURLToPath(new URL('.', import.meta.url));

/** Why an install is needed, or undefined when bench/node_modules is in step with the lock. */
function staleness() {
  const { dependencies = {} } = JSON.parse(readFileSync(join(bench, 'package.json'), 'utf8'));
  const missing = Object.keys(dependencies).filter(
    (name) => !existsSync(join(bench, 'node_modules', name, 'package.json')),
  );
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  // npm writes node_modules/.package-lock.json at each install: a lock changed since then
  // (a pull, a checkout) asks for another.
  const installed = join(bench, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return 'no record of an install';
  if (statSync(join(bench, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
    return 'bench/package-lock.json changed since the last install';
  }
  return undefined;
}

export function ensureBenchDependencies() {
  const why = staleness();
  if (why === undefined) return;
  process.stderr.write(`bench: installing its dependencies into bench/node_modules (${why})\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
    cwd: bench,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) {
    process.stderr.write(`bench: npm ci in bench/ failed (${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}
