import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where PostgreSQL's server programs are, and which major version they are. */
export interface PostgresBinaries {
  /** The folder holding `initdb`, `postgres` and `psql`. */
  readonly bin: string;
  readonly major: number;
}

/** The oldest PostgreSQL the shared queue supports (issue 31: 14 and newer). */
export const MIN_MAJOR = 14;

function isServerBin(dir: string): boolean {
  return ['initdb', 'postgres', 'psql'].every((program) => existsSync(join(dir, program)));
}

function majorOf(bin: string): number | undefined {
  const out = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /\(PostgreSQL\) (\d+)/.exec(out.stdout ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * Finds PostgreSQL's server programs: Debian's `postgresql-N` packages keep them in
 * `/usr/lib/postgresql/N/bin`, off the PATH (only client wrappers such as `psql` are linked
 * into /usr/bin), so that folder is tried first, the newest N first; otherwise the folder of
 * the `initdb` on the PATH (Homebrew, a source build). Undefined when there is none of at
 * least version 14.
 */
export function findPostgres(): PostgresBinaries | undefined {
  const candidates: string[] = [];
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(join(debian, version, 'bin'));
  }
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim() !== '') {
    candidates.push(dirname(realpathSync(onPath.stdout.trim())));
  }
  for (const bin of candidates) {
    if (!isServerBin(bin)) continue;
    const major = majorOf(bin);
    if (major !== undefined && major >= MIN_MAJOR) return { bin, major };
  }
  return undefined;
}
