// A throwaway PostgreSQL for `npm run bench -- cluster`: initdb into a temporary folder (as
// the `postgres` user when the bench runs as root: initdb refuses root), then `postgres` on
// a free loopback port, fsync and synchronous_commit on. Stopped by its PID.
// (The tests' harness, test/support/postgres, is TypeScript; the bench runs plain Node.)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.mjs';

/** The newest Debian server programs (/usr/lib/postgresql/N/bin), or the PATH's. */
function serverBin() {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      if (existsSync(join(debian, v, 'bin', 'postgres'))) return join(debian, v, 'bin');
    }
  }
  const found = spawnSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' });
  if (found.status === 0) return join(found.stdout.trim(), '..');
  return undefined;
}

export function havePostgres() {
  return serverBin() !== undefined;
}

/**
 * CPU seconds (user and system) of a process and its children alive now: PostgreSQL's
 * postmaster and its backends (Linux's /proc; 0 elsewhere). A backend that ended meanwhile
 * is not counted: the bench's connections live through each measured window.
 */
export function processTreeCpu(root) {
  const tick = 100; // USER_HZ
  let total = 0;
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let fields;
    try {
      fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
    } catch {
      continue;
    }
    // After the name: state, ppid, …; utime and stime are the 12th and 13th.
    if (Number(entry) === root || Number(fields[1]) === root) {
      total += (Number(fields[11]) + Number(fields[12])) / tick;
    }
  }
  return total;
}

/**
 * Starts PostgreSQL (on `port`, or a free one); resolves with its connection string and
 * `stop()`.
 */
export async function startPostgres(settings = {}, port = undefined) {
  const bin = serverBin();
  if (bin === undefined) throw new Error('no PostgreSQL: run scripts/install-test-deps.sh');
  const root = process.getuid?.() === 0;
  const identity = root
    ? {
        uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout),
        gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout),
      }
    : {};
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-bench-pg-'));
  if (root) chownSync(dir, identity.uid, identity.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...identity, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  port ??= await freePort();
  const options = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'on',
    synchronous_commit: 'on',
    max_connections: 200,
    shared_buffers: '256MB',
    ...settings,
  };
  const args = ['-D', data, '-p', String(port)];
  for (const [name, value] of Object.entries(options)) args.push('-c', `${name}=${value}`);
  const child = spawn(join(bin, 'postgres'), args, { ...identity, stdio: 'ignore' });
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]);
    if (ready.status === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error('PostgreSQL did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGQUIT');
  });
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    cpu: () => processTreeCpu(child.pid),
  };
}
