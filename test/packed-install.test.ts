// The packages as a user gets them before they are published (the root README's "Using the
// packages"): `npm pack` of every package under packages/, installed from the tarballs into
// an empty project outside the repository, with the registry unreachable (npm's cache only).
// Then what a user does with them: an in-process job, a TCP server that a client answers,
// every entry loaded through import and require, the geartrain command from its tarball, a
// TypeScript consumer type-checked with skipLibCheck false, and @geartrain/client in a
// project that has only it and what it depends on.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startGeartrain, type TestServer } from './support/interop.js';
import {
  adminLine,
  mustRun,
  npmWarnings,
  provideSqlitePrebuild,
  repoRoot,
  runCommand,
  startServerCommand,
  startTripwire,
  userEnv,
  type Tripwire,
} from './support/offline-npm.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string> | string;
  exports?: Record<string, unknown>;
  main?: string;
  module?: string;
  types?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Packed {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly tarball: string;
  readonly files: string[];
}

const MINUTE = 60_000;

/** Every package under packages/ at test time. */
function workspacePackages(): { dir: string; manifest: Manifest }[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .filter((entry) => existsSync(join(root, entry, 'package.json')))
    .map((entry) => ({
      dir: join(root, entry),
      manifest: JSON.parse(readFileSync(join(root, entry, 'package.json'), 'utf8')) as Manifest,
    }))
    .filter(({ manifest }) => manifest.private !== true);
}

/** The subpaths a package exports (`.`, `./transport`), without `./package.json`. */
function entries(manifest: Manifest): string[] {
  return Object.keys(manifest.exports ?? { '.': null }).filter((key) => !key.endsWith('.json'));
}

function specifier(manifest: Manifest, entry: string): string {
  return entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`;
}

/** Every file a manifest points at: exports' targets, main, module, types, bin. */
function pointedAt(manifest: Manifest): string[] {
  const targets: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') targets.push(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  for (const field of [manifest.main, manifest.module, manifest.types]) walk(field);
  return [...new Set(targets.map((path) => path.replace(/^\.\//, '')))];
}

/**
 * A lockfile for an empty project that already holds the repository's third-party packages
 * at the versions of its lock. npm resolves a package it has not locked from the registry's
 * full metadata, which an `npm ci` never fetches, so an install from the cache alone needs
 * the versions locked already; those it does not use are dropped by the install.
 */
function seedLock(name: string): object {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { link?: boolean }>;
  };
  const packages: Record<string, unknown> = { '': { name, version: '1.0.0' } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.link === true) continue;
    if (path.startsWith('node_modules/@geartrain/')) continue;
    packages[path] = entry;
  }
  return { name, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/**
 * An empty project outside the repository with `tarballs` installed from npm's cache alone
 * (and `devDependencies` at versions the repository locks). Like any project that uses
 * @geartrain/store-sqlite, it allows better-sqlite3's install script (the root README).
 */
async function installProject(
  dir: string,
  tarballs: string[],
  env: NodeJS.ProcessEnv,
  devDependencies: Record<string, string> = {},
) {
  mkdirSync(dir, { recursive: true });
  const manifest = {
    name: 'consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    devDependencies,
    allowScripts: { 'better-sqlite3': true },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(seedLock('consumer'), null, 2));
  return mustRun('npm', ['install', '--offline', ...tarballs], {
    cwd: dir,
    env,
    timeout: 5 * MINUTE,
  });
}

describe('the packages packed and installed outside the repository', () => {
  let work: string;
  let tripwire: Tripwire;
  let env: NodeJS.ProcessEnv;
  const packed = new Map<string, Packed>();
  let fullInstall = '';
  const full = () => join(work, 'full');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'geartrain-packed-'));
    tripwire = await startTripwire();
    env = userEnv(tripwire.url);
    provideSqlitePrebuild(work);
    const packages = workspacePackages();
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    // The root README's command: `npm pack --workspace packages --pack-destination DIR`.
    const out = await mustRun(
      'npm',
      ['pack', '--workspace', 'packages', '--pack-destination', tarballs, '--json'],
      { cwd: repoRoot, env, timeout: 2 * MINUTE },
    );
    const report = JSON.parse(out.slice(out.indexOf('['))) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
    for (const { dir, manifest } of packages) {
      const entry = report.find((r) => r.name === manifest.name);
      if (entry === undefined) throw new Error(`npm pack made no tarball of ${manifest.name}`);
      packed.set(manifest.name, {
        dir,
        manifest,
        tarball: join(tarballs, entry.filename),
        files: entry.files.map((f) => f.path),
      });
    }
    // With @types/node, for the TypeScript consumer, at the version the repository locks.
    const types = join(repoRoot, 'node_modules', '@types', 'node', 'package.json');
    const typesVersion = (JSON.parse(readFileSync(types, 'utf8')) as { version: string }).version;
    fullInstall = await installProject(
      full(),
      [...packed.values()].map((p) => p.tarball),
      env,
      { '@types/node': typesVersion },
    );
  }, 8 * MINUTE);

  afterAll(async () => {
    await tripwire?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, MINUTE);

  it(
    'has the network closed: a registry request fails, and the tripwire records it',
    async () => {
      const ran = await runCommand('npm', ['view', 'left-pad', 'version'], {
        cwd: work,
        env,
        timeout: MINUTE,
      });
      expect(ran.code).not.toBe(0);
      expect(tripwire.requests.length).toBeGreaterThan(0);
      tripwire.requests.length = 0;
    },
    MINUTE,
  );

  it('packs each package with every file its package.json points at, its LICENSE and CHANGELOG', () => {
    expect(packed.size).toBeGreaterThan(0);
    for (const { manifest, files } of packed.values()) {
      const missing = [...pointedAt(manifest), 'LICENSE', 'CHANGELOG.md', 'README.md'].filter(
        (path) => !files.includes(path),
      );
      expect(missing, manifest.name).toEqual([]);
    }
  });

  it('installs every tarball from the cache alone, with no warning', () => {
    expect(npmWarnings(fullInstall)).toEqual([]);
    for (const name of packed.keys()) {
      expect(existsSync(join(full(), 'node_modules', name, 'package.json')), name).toBe(true);
    }
    expect(tripwire.requests).toEqual([]);
  });

  it(
    'loads every entry of every package through import and through require',
    async () => {
      const specs = [...packed.values()].flatMap(({ manifest }) =>
        entries(manifest).map((entry) => specifier(manifest, entry)),
      );
      writeFileSync(
        join(full(), 'entries.mjs'),
        `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
for (const spec of ${JSON.stringify(specs)}) {
  const esm = Object.keys(await import(spec)).length;
  const cjs = Object.keys(require(spec)).length;
  console.log(spec, esm, cjs);
}
`,
      );
      const out = await mustRun(process.execPath, ['entries.mjs'], {
        cwd: full(),
        env,
        timeout: MINUTE,
      });
      for (const spec of specs)
        expect(out).toMatch(new RegExp(`^${spec} [1-9]\\d* [1-9]\\d*$`, 'm'));
    },
    MINUTE,
  );

  it(
    'runs a job in process, and over TCP from a client, on the SQLite store, in threads, with metrics',
    async () => {
      writeFileSync(
        join(full(), 'double.mjs'),
        'export const double = (job) => String(2 * Number(job.text()));\n',
      );
      writeFileSync(
        join(full(), 'scenario.mjs'),
        `import { createJobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';
import { createClient } from '@geartrain/client';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { attachThreadPool } from '@geartrain/threads';
import { serveDashboard } from '@geartrain/dashboard';
import { createTestServer } from '@geartrain/testing';

const server = createJobServer({ store: SqliteJobStore.open(process.argv[2]) });
server.worker().register('reverse', (job) => [...job.text()].reverse().join(''));
console.log('in process:', (await server.client().run('reverse', 'hello')).toString());

const tcp = await serve(server, { host: '127.0.0.1', port: 0 });
const client = createClient({ servers: [\`127.0.0.1:\${tcp.address.port}\`] });
console.log('over tcp:', await (await client.submit('reverse', 'packed')).text());

const pool = attachThreadPool(server, {
  threads: 1,
  functions: { double: { module: new URL('./double.mjs', import.meta.url).pathname, export: 'double' } },
});
console.log('in a thread:', (await server.client().run('double', '21')).toString());
await pool.close({ timeout: 5000 });

const dashboard = await serveDashboard(server, { port: 0 });
const page = await fetch(\`http://127.0.0.1:\${dashboard.address.port}/\`);
const metrics = await (await fetch(\`http://127.0.0.1:\${dashboard.address.port}/metrics\`)).text();
console.log('page:', page.status, 'metrics:', metrics.includes('gearman_'));
await dashboard.close();

const t = createTestServer();
t.worker().register('later', () => 'done');
await t.client().submit('later', '', { delay: 60_000 });
await t.advanceBy(60_000);
console.log('virtual time:', t.finished().length);

client.close();
await server.close({ timeout: 0 });
await tcp.close({ timeout: 0 });
`,
      );
      const out = await mustRun(process.execPath, ['scenario.mjs', join(work, 'jobs.sqlite')], {
        cwd: full(),
        env,
        timeout: MINUTE,
      });
      expect(out).toContain('in process: olleh');
      expect(out).toContain('over tcp: dekcap');
      expect(out).toContain('in a thread: 42');
      expect(out).toContain('page: 200 metrics: true');
      expect(out).toContain('virtual time: 1');
    },
    MINUTE,
  );

  it(
    'runs the geartrain command from its tarball: npx geartrain serve answers on its admin port',
    async () => {
      const withBin = [...packed.values()].filter(({ manifest }) =>
        typeof manifest.bin === 'object' ? 'geartrain' in manifest.bin : false,
      );
      expect(withBin.map(({ manifest }) => manifest.name)).toHaveLength(1);
      const help = await mustRun('npx', ['geartrain', '--help'], {
        cwd: full(),
        env,
        timeout: MINUTE,
      });
      expect(help).toContain('geartrain serve');
      const port = await freePort();
      const server = await startServerCommand(
        'npx',
        ['geartrain', 'serve', '--port', String(port), '--store', join(work, 'served.sqlite')],
        { cwd: full(), env, timeout: MINUTE },
      );
      try {
        expect(server.line).toContain(`listening on 127.0.0.1:${port}`);
        expect(await adminLine(port, 'version')).toMatch(/^OK \S+/);
      } finally {
        const stopped = await server.stop();
        expect(stopped.lingering).toBe(false);
      }
      expect(tripwire.requests).toEqual([]);
    },
    2 * MINUTE,
  );

  it(
    'type-checks a TypeScript consumer of every entry with skipLibCheck false, as ESM and as CommonJS',
    async () => {
      const specs = [...packed.values()].flatMap(({ manifest }) =>
        entries(manifest).map((entry) => specifier(manifest, entry)),
      );
      writeFileSync(
        join(full(), 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
          },
          files: ['consumer.ts', 'consumer.cts'],
        }),
      );
      const names = specs.map((_, i) => `m${i}`);
      // Every entry, and the packages used together as the README shows them: a server with
      // the SQLite store, exposed over TCP, and a network client.
      writeFileSync(
        join(full(), 'consumer.ts'),
        `${specs.map((spec, i) => `import * as m${i} from '${spec}';`).join('\n')}
import { createJobServer, type JobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { createClient } from '@geartrain/client';

export const all = [${names.join(', ')}];
const server: JobServer = createJobServer({ store: SqliteJobStore.open('jobs.sqlite') });
server.worker().register('reverse', (job) => [...job.text()].reverse().join(''));
export const listening = serve(server, { port: 0 });
export const text: Promise<string> = createClient({ servers: ['127.0.0.1:4730'] })
  .submit('reverse', 'x')
  .then((job) => job.text());
`,
      );
      writeFileSync(
        join(full(), 'consumer.cts'),
        `${specs.map((spec, i) => `import m${i} = require('${spec}');`).join('\n')}
import core = require('@geartrain/core');

export const all = [${names.join(', ')}];
export const server: core.JobServer = core.createJobServer();
`,
      );
      const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      const ran = await runCommand(process.execPath, [tsc, '-p', '.'], {
        cwd: full(),
        env,
        timeout: 2 * MINUTE,
      });
      expect(ran.output).toBe('');
      expect(ran.code).toBe(0);
    },
    3 * MINUTE,
  );

  describe('@geartrain/client with only what it depends on', () => {
    let server: TestServer | undefined;
    afterAll(async () => server?.stop());

    it(
      'installs without @geartrain/core being asked for, and runs a worker and a client against a server',
      async () => {
        const client = packed.get('@geartrain/client');
        expect(client).toBeDefined();
        // Its tarball and those of the @geartrain packages it depends on, followed down.
        const needed = new Set<string>();
        const follow = (name: string) => {
          if (needed.has(name)) return;
          needed.add(name);
          for (const dep of Object.keys(packed.get(name)!.manifest.dependencies ?? {})) {
            if (packed.has(dep)) follow(dep);
          }
        };
        follow('@geartrain/client');
        const dir = join(work, 'client-only');
        const out = await installProject(
          dir,
          [...needed].map((name) => packed.get(name)!.tarball),
          env,
        );
        expect(npmWarnings(out)).toEqual([]);
        const installed = readdirSync(join(dir, 'node_modules', '@geartrain'));
        expect(installed.sort()).toEqual(
          [...needed].map((n) => n.slice('@geartrain/'.length)).sort(),
        );

        server = await startGeartrain();
        writeFileSync(
          join(dir, 'talk.mjs'),
          `import { createClient, createWorker } from '@geartrain/client';
const servers = [process.argv[2]];
const worker = createWorker({ servers });
worker.register('reverse', (job) => [...job.text()].reverse().join(''));
const client = createClient({ servers });
console.log('reply:', await (await client.submit('reverse', 'network')).text());
client.close();
await worker.stop({ timeout: 1000 });
`,
        );
        const talk = await mustRun(process.execPath, ['talk.mjs', `127.0.0.1:${server.port}`], {
          cwd: dir,
          env,
          timeout: MINUTE,
        });
        expect(talk).toContain('reply: krowten');
        expect(tripwire.requests).toEqual([]);
      },
      6 * MINUTE,
    );
  });
});
