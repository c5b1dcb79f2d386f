// Every command the READMEs print, run as printed in a fresh clone of this commit, with the
// network closed. The clone gets its dependencies as a user's does, by `npm ci`, from npm's
// cache alone (the cache the repository's own `npm ci` filled; see support/offline-npm.ts),
// and npm's proxy is a tripwire: a command that reaches for the registry fails here.
//
// The commands are found in the READMEs at test time: every `geartrain …`, `npx geartrain …`
// and `npm start …` in a code span or a shell block of README.md, packages/*/README.md and
// examples/*/README.md, in the order a reader meets them: `npm ci`, then the root's
// `npm start`, then the geartrain commands (run through `npx`, as the README says for a
// clone), then `npm run build` and each example's `npm start` (and `npm test` where it has
// one). What a printed command leaves to the reader is filled in: a free port for 4730 and
// 4731 (and for a server given none, through $GEARMAND_PORT), temporary files for PATH,
// FILE and QUEUE_FILE (a queue written by a real gearmand), the README's own config file
// for --config, a throwaway PostgreSQL for a postgres:// store at 127.0.0.1:5432. The root's
// `npm test` is the suite this test belongs to: .ci/run runs it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@geartrain/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, haveTool, IN_CI, startGearmand } from './support/interop.js';
import { findPostgres, startPostgres, type PostgresServer } from './support/postgres/index.js';
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

const MINUTE = 60_000;

interface Printed {
  /** The command as the README prints it. */
  readonly text: string;
  /** The READMEs that print it. */
  readonly where: string[];
}

/** The READMEs a user reads: the root's, each package's and each example's. */
function readmes(): string[] {
  const found = ['README.md'];
  for (const folder of ['packages', 'examples']) {
    for (const entry of readdirSync(join(repoRoot, folder))) {
      if (existsSync(join(repoRoot, folder, entry, 'README.md'))) {
        found.push(`${folder}/${entry}/README.md`);
      }
    }
  }
  return found;
}

/**
 * `geartrain …` (after environment assignments, or npx), `node FLAGS
 * node_modules/.bin/geartrain …` and `npm start …`.
 */
const COMMAND =
  /(?:^|\s)((?:[A-Z_]+=\S+\s+)*(?:npx\s+|node(?:\s+--\S+)*\s+node_modules\/\.bin\/)?geartrain(?![\w./-])(?:\s[^`#()&|;]*)?|npm start(?:\s[^`#()&|;]*)?)/g;

/** The geartrain and npm start commands a README prints, in its order. */
function commandsIn(text: string): string[] {
  const found: string[] = [];
  const take = (fragment: string) => {
    // A synopsis's alternatives (`[--store PATH | --port PORT]`): the first one.
    const synopsis = fragment.replace(/\[([^\]|]*)\|[^\]]*\]/g, '[$1]');
    for (const match of synopsis.matchAll(COMMAND)) {
      const command = match[1]!.replace(/\s+/g, ' ').trim();
      // "the `geartrain` command" names the program; it is not a command to run.
      if (command !== 'geartrain' && command !== 'npx geartrain') found.push(command);
    }
  };
  // Shell blocks: each line cut at `&&`; in a comment, what it gives in parentheses.
  const fences = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (const [, lang, body] of text.matchAll(fences)) {
    if (!['sh', 'bash', 'shell', 'console', ''].includes(lang!)) continue;
    for (const line of body!.split('\n')) {
      const hash = line.search(/(^|\s)#/);
      const code = hash < 0 ? line : line.slice(0, hash);
      for (const part of code.split('&&')) take(part);
      if (hash >= 0)
        for (const [, aside] of line.slice(hash).matchAll(/\(([^)]*)\)/g)) take(aside!);
    }
  }
  // Code spans of the prose (a span may run over a line break).
  const prose = text.replace(fences, '');
  for (const [, span] of prose.matchAll(/`([^`]+)`/g)) take(span!);
  return found;
}

function printedCommands(): Printed[] {
  const byText = new Map<string, string[]>();
  for (const readme of readmes()) {
    for (const command of commandsIn(readFileSync(join(repoRoot, readme), 'utf8'))) {
      byText.set(command, [...(byText.get(command) ?? []), readme]);
    }
  }
  return [...byText].map(([text, where]) => ({ text, where: [...new Set(where)] }));
}

/** The config file a README prints for `--config` (a JSON block with the config's sections). */
function printedConfig(): string {
  for (const readme of readmes()) {
    const text = readFileSync(join(repoRoot, readme), 'utf8');
    for (const [, body] of text.matchAll(/^```json\n([\s\S]*?)^```/gm)) {
      const parsed = JSON.parse(body!) as Record<string, unknown>;
      if ('schedules' in parsed || 'jobPolicies' in parsed) return body!;
    }
  }
  throw new Error('no README prints the config file that --config reads');
}

const printed = printedCommands();
const npmStarts = printed.filter((c) => c.text.startsWith('npm start'));
const geartrains = printed.filter((c) => !c.text.startsWith('npm start'));
/** Examples with a start script, and those with a test script too. */
const examples = readdirSync(join(repoRoot, 'examples')).filter((entry) =>
  existsSync(join(repoRoot, 'examples', entry, 'package.json')),
);
const scriptsOf = (example: string) =>
  (
    JSON.parse(readFileSync(join(repoRoot, 'examples', example, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    }
  ).scripts ?? {};

/** Log levels and other upper-case words a command may carry that are values, not blanks. */
const VALUES = new Set(['INFO', 'DEBUG', 'WARNING', 'ERROR', 'NOTICE', 'CRITICAL', 'FATAL']);

describe('a fresh clone, with the network closed', () => {
  let work: string;
  let clone: string;
  let tripwire: Tripwire;
  let env: NodeJS.ProcessEnv;
  let install = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'geartrain-clone-'));
    clone = join(work, 'clone');
    tripwire = await startTripwire();
    // The default store of `geartrain serve` goes under the test's folder, not $HOME.
    env = userEnv(tripwire.url, { XDG_STATE_HOME: join(work, 'state') });
    provideSqlitePrebuild(work);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
    await mustRun('git', ['clone', '--quiet', '--no-checkout', repoRoot, clone], {
      cwd: work,
      env,
      timeout: MINUTE,
    });
    await mustRun('git', ['checkout', '--quiet', '--detach', head.trim()], {
      cwd: clone,
      env,
      timeout: MINUTE,
    });
    install = await mustRun('npm', ['ci', '--offline'], { cwd: clone, env, timeout: 6 * MINUTE });
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

  it('npm ci installs from the cache alone and prints no warning (no EBADENGINE, no allowScripts)', () => {
    expect(npmWarnings(install)).toEqual([]);
    expect(install).not.toMatch(/EBADENGINE|allowScripts|install-scripts/);
    expect(existsSync(join(clone, 'node_modules', 'better-sqlite3'))).toBe(true);
  });

  it("npm ci leaves the bench's dependencies out: they install when the bench first runs", () => {
    expect(existsSync(join(clone, 'node_modules', 'bullmq'))).toBe(false);
    expect(existsSync(join(clone, 'bench', 'node_modules'))).toBe(false);
  });

  it('finds the commands the READMEs print', () => {
    expect(npmStarts.map((c) => c.text)).toContain('npm start');
    expect(geartrains.length).toBeGreaterThan(0);
  });

  describe('npm start and the geartrain commands', () => {
    let config: string;
    let queueFile: string | undefined;
    /** The PostgreSQL of the postgres:// stores, started by the first command that has one. */
    let postgres: Promise<PostgresServer> | undefined;

    beforeAll(async () => {
      config = printedConfig();
      queueFile = await gearmandQueueFile();
    }, 2 * MINUTE);

    afterAll(async () => {
      await (await postgres)?.stop();
    }, MINUTE);

    /** A gearmand libsqlite3 queue file with two jobs, for `import-gearmand QUEUE_FILE`. */
    async function gearmandQueueFile(): Promise<string | undefined> {
      if (!haveTool('gearmand')) {
        if (IN_CI) throw new Error('missing gearmand: run scripts/install-test-deps.sh');
        return undefined;
      }
      const file = join(work, 'gearmand-queue.sqlite');
      const gearmand = await startGearmand(['-q', 'libsqlite3', `--libsqlite3-db=${file}`]);
      const client = createClient({ servers: [`127.0.0.1:${gearmand.port}`] });
      try {
        await client.submit('resize', 'a', { background: true, unique: 'one' });
        await client.submit('resize', 'b', { background: true, unique: 'two' });
      } finally {
        client.close();
        await gearmand.crash();
      }
      return file;
    }

    /**
     * The printed command made runnable here: its blanks filled, `geartrain` through npx
     * (the clone's bin), and the environment it needs. Undefined when a program it needs
     * (gearmand, PostgreSQL) is missing on this machine (outside CI).
     */
    async function prepare(text: string) {
      let command = text.replace(/\[([^\]]*)\]/g, '$1'); // optional parts: given
      const extraEnv: NodeJS.ProcessEnv = {};
      const ports: { gearman?: number; http?: number } = {};
      const isServer = /(^|[\s/])geartrain serve\b/.test(command) || /^npm start\b/.test(command);
      const isHelp = /\s(--help|-h|--version)\b/.test(command);
      // A subcommand named without its arguments: its help is what runs.
      if (/^(npx )?geartrain [a-z][a-z-]*$/.test(command) && !/ serve$/.test(command)) {
        command += ' --help';
      }
      command = command.replace(/(--port[ =]|-p )473[01]\b/, (_, flag: string) => {
        ports.gearman = -1;
        return `${flag}PORT_GEARMAN`;
      });
      command = command.replace(/--http[ =](127\.0\.0\.1:4731|HOST:PORT)/, () => {
        ports.http = -1;
        return '--http 127.0.0.1:PORT_HTTP';
      });
      if (ports.gearman !== undefined) ports.gearman = await freePort();
      if (ports.http !== undefined) ports.http = await freePort();
      if (isServer && !isHelp && ports.gearman === undefined) {
        ports.gearman = await freePort();
        extraEnv['GEARMAND_PORT'] = String(ports.gearman); // `-p/--port (or $GEARMAND_PORT)`
      }
      command = command
        .replace('PORT_GEARMAN', String(ports.gearman))
        .replace('PORT_HTTP', String(ports.http));
      if (/--config (\S+)/.test(command)) {
        const path = join(work, 'geartrain.json');
        writeFileSync(path, config);
        command = command.replace(/--config \S+/, `--config ${path}`);
      }
      command = command.replace(/--store PATH\b/, `--store ${join(work, 'imported.sqlite')}`);
      if (/postgres:\/\/[^\s@]*@127\.0\.0\.1:5432\//.test(command)) {
        // The reader's PostgreSQL on its usual port: a throwaway one on a free port here.
        if (findPostgres() === undefined) {
          if (IN_CI) throw new Error('missing PostgreSQL: run scripts/install-test-deps.sh');
          return undefined;
        }
        postgres ??= startPostgres();
        const db = await postgres;
        command = command.replace('@127.0.0.1:5432/', `@${db.host}:${db.port}/`);
      }
      if (/\bQUEUE_FILE\b/.test(command)) {
        if (queueFile === undefined) return undefined;
        command = command.replace(/\bQUEUE_FILE\b/, queueFile);
      }
      // `geartrain` runs through npx, after any environment assignments in front.
      command = command.replace(
        /^((?:[A-Z_]+=\S+\s+)*)(?:npx\s+)?geartrain\b/,
        (_, assignments: string) => `${assignments}npx geartrain`,
      );
      const blanks = (command.match(/\b[A-Z][A-Z_]{2,}\b(?!=)/g) ?? []).filter(
        (word) => !VALUES.has(word),
      );
      if (blanks.length > 0)
        throw new Error(`"${text}" has blanks this test cannot fill: ${blanks.join(', ')}`);
      return { command, isServer: isServer && !isHelp, ports, env: { ...env, ...extraEnv } };
    }

    /**
     * Runs a printed command in the clone and checks it does what it says; `skip` when a
     * program it needs is missing on this machine (in CI that fails before: see prepare).
     */
    async function check({ text }: Printed, skip: (note: string) => void) {
      const prepared = await prepare(text);
      if (prepared === undefined) {
        return skip('gearmand or PostgreSQL is missing (scripts/install-test-deps.sh)');
      }
      const { command, isServer, ports } = prepared;
      const options = { cwd: clone, env: prepared.env, timeout: 4 * MINUTE, shell: true };
      if (!isServer) {
        const out = await mustRun(command, [], options);
        if (/--help/.test(command)) expect(out).toMatch(/usage/i);
        if (/import-gearmand \//.test(command)) expect(out).toMatch(/imported \d+ jobs/);
        return;
      }
      const server = await startServerCommand(command, [], options);
      try {
        expect(server.line).toContain(`:${ports.gearman}`);
        expect(await adminLine(ports.gearman!, 'version')).toMatch(/^OK \S+/);
        if (ports.http !== undefined) {
          const metrics = await fetch(`http://127.0.0.1:${ports.http}/metrics`);
          expect(metrics.status).toBe(200);
        }
        if (/--config/.test(command)) {
          expect(await adminLine(ports.gearman!, 'show schedules')).toMatch(/^\S+\t/);
        }
      } finally {
        const stopped = await server.stop();
        expect(stopped.lingering).toBe(false);
      }
    }

    // `npm start` builds what the command needs first (prestart): the first one waits for it.
    it.for(npmStarts)(
      '$text ($where)',
      { timeout: 6 * MINUTE },
      async (printedCommand, { skip }) => {
        const before = tripwire.requests.length;
        await check(printedCommand, skip);
        expect(tripwire.requests.slice(before)).toEqual([]);
      },
    );

    it.for(geartrains)(
      '$text ($where)',
      { timeout: 2 * MINUTE },
      async (printedCommand, { skip }) => {
        const before = tripwire.requests.length;
        await check(printedCommand, skip);
        expect(tripwire.requests.slice(before)).toEqual([]);
      },
    );
  });

  describe('the examples, after npm run build at the top', () => {
    beforeAll(async () => {
      await mustRun('npm', ['run', 'build'], { cwd: clone, env, timeout: 8 * MINUTE });
    }, 8 * MINUTE);

    const needs: Record<string, string> = { php: 'php' };
    const usesDatabase = new Set(['orders-in-one-transaction', 'schedules']);
    it.for(examples)(
      'examples/%s: npm start (and npm test, npm run cluster)',
      { timeout: 4 * MINUTE },
      async (example, { skip }) => {
        const tool = needs[example];
        if (tool !== undefined && !haveTool(tool)) {
          if (IN_CI) throw new Error(`missing ${tool}: run scripts/install-test-deps.sh`);
          return skip(`${tool} is missing (scripts/install-test-deps.sh)`);
        }
        if (usesDatabase.has(example) && findPostgres() === undefined) {
          if (IN_CI) throw new Error('missing PostgreSQL: run scripts/install-test-deps.sh');
          return skip('PostgreSQL is missing (scripts/install-test-deps.sh)');
        }
        const before = tripwire.requests.length;
        const cwd = join(clone, 'examples', example);
        const scripts = scriptsOf(example);
        // An example on a shared queue gets a throwaway PostgreSQL as its DATABASE_URL.
        const database = usesDatabase.has(example) ? await startPostgres() : undefined;
        try {
          const withDb =
            database === undefined ? env : { ...env, DATABASE_URL: database.connectionString };
          for (const script of ['start', 'test', 'cluster'].filter((name) => name in scripts)) {
            // start and test are npm's own; the others are `npm run NAME`.
            const args = script === 'start' || script === 'test' ? [script] : ['run', script];
            await mustRun('npm', args, { cwd, env: withDb, timeout: 2 * MINUTE });
          }
        } finally {
          await database?.stop();
        }
        expect(tripwire.requests.slice(before)).toEqual([]);
      },
    );
  });

  it('left the network alone throughout', () => {
    expect(tripwire.requests).toEqual([]);
  });
});
