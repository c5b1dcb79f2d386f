import { describe, expect, it } from 'vitest';
import {
  parseCommandLine,
  type Command,
  type ServeSettings,
  type UsageError,
} from '../src/args.js';

const ENV = { HOME: '/home/me' };

function serve(argv: string[], env: NodeJS.ProcessEnv = ENV): ServeSettings {
  const command = parseCommandLine(['serve', ...argv], env);
  if (command.kind !== 'serve') throw new Error(`not serve: ${JSON.stringify(command)}`);
  return command.settings;
}

function refusal(argv: string[], env: NodeJS.ProcessEnv = ENV): string {
  const command: Command | UsageError = parseCommandLine(argv, env);
  if (command.kind !== 'usage-error') throw new Error(`accepted: ${JSON.stringify(command)}`);
  return command.message;
}

describe('parseCommandLine', () => {
  it("serves by default on gearmand's port, with the default store of that port", () => {
    const settings = serve([]);
    expect(settings).toMatchObject({
      host: '127.0.0.1',
      port: 4730,
      jobRetries: 0,
      shutdownTimeout: 30_000,
      allowRemoteShutdown: false,
      allowRemoteAdmin: false,
      logging: { verbose: 'ERROR', level: 'error', target: 'stderr' },
      store: {
        kind: 'default',
        dir: '/home/me/.local/state/geartrain',
        port: 4730,
        durability: 'process-crash',
      },
    });
    expect(parseCommandLine([], ENV)).toMatchObject({ kind: 'serve' });
  });

  it('takes the port from --port, then --listen HOST:PORT, then GEARMAND_PORT', () => {
    const env = { ...ENV, GEARMAND_PORT: '4800', XDG_STATE_HOME: '/state' };
    expect(serve([], env)).toMatchObject({
      port: 4800,
      store: { dir: '/state/geartrain', port: 4800 },
    });
    expect(serve(['-L', '[::1]:4900'], env)).toMatchObject({ host: '::1', port: 4900 });
    expect(serve(['-L', '[::1]:4900', '-p', '5000'], env)).toMatchObject({ port: 5000 });
    expect(refusal([], { GEARMAND_PORT: 'x' })).toBe("GEARMAND_PORT needs a whole number, not 'x'");
  });

  it('reads every flag into its setting', () => {
    expect(
      serve(
        [
          '-j',
          '3',
          '--exceptions',
          '-w',
          '0',
          '--wake-timeout',
          '50',
          '--job-handle-prefix',
          'A',
          '--max-connections',
          '10',
          '--idle-timeout',
          '0',
          '--keepalive',
          '--allow-remote-shutdown',
          '--allow-remote-admin',
          '--shutdown-timeout',
          '5000',
          '-v',
          'info',
          '-l',
          'none',
          '-P',
          '/run/g.pid',
          '-t',
          '4',
          '--config',
          'g.json',
          '--http',
          '127.0.0.1:4731',
          '--store',
          'memory',
          '--job-policy',
          'charge attempts=3,backoff=exponential,delay=100',
        ],
        { ...ENV, GEARTRAIN_DASHBOARD_TOKEN: 'secret' },
      ),
    ).toEqual({
      host: '127.0.0.1',
      port: 4730,
      jobRetries: 3,
      exceptions: true,
      workerWakeup: 0,
      wakeTimeout: 50,
      handlePrefix: 'A',
      jobPolicies: { charge: { attempts: 3, backoff: { type: 'exponential', delay: 100 } } },
      configFile: 'g.json',
      http: { host: '127.0.0.1', port: 4731 },
      dashboardToken: 'secret',
      store: { kind: 'memory' },
      maxConnections: 10,
      idleTimeout: 0,
      keepAlive: true,
      allowRemoteShutdown: true,
      allowRemoteAdmin: true,
      shutdownTimeout: 5000,
      logging: { verbose: 'INFO', level: 'info', target: 'none' },
      pidFile: '/run/g.pid',
      threads: 4,
    });
  });

  it('reads no file and makes none: a config file or pid file is only named', () => {
    const settings = serve(['--config', '/no/such/file.json', '--pid-file', '/no/such/dir/x.pid']);
    expect([settings.configFile, settings.pidFile]).toEqual([
      '/no/such/file.json',
      '/no/such/dir/x.pid',
    ]);
  });

  it('refuses ports and numbers out of range, before anything is opened', () => {
    expect(refusal(['serve', '--port', '99999'])).toBe(
      "--port needs a whole number from 0 to 65535, not '99999'",
    );
    expect(refusal(['serve', '--port', '-1'])).toBe(
      "--port needs a whole number from 0 to 65535, not '-1'",
    );
    expect(refusal(['serve', '--port', 'abc'])).toBe("--port needs a whole number, not 'abc'");
    expect(refusal(['serve', '--worker-wakeup=-1'])).toBe(
      "--worker-wakeup needs a whole number ≥ 0, not '-1'",
    );
    expect(refusal(['serve', '--wake-timeout', '0'])).toBe(
      "--wake-timeout needs a whole number ≥ 1, not '0'",
    );
    // A Node timer fires a longer delay after 1 ms.
    expect(refusal(['serve', '--shutdown-timeout', '9999999999'])).toBe(
      "--shutdown-timeout needs a whole number ≤ 2147483647, not '9999999999'",
    );
    expect(refusal(['serve', '--max-connections', '0'])).toBe(
      "--max-connections needs a whole number ≥ 1, not '0'",
    );
    expect(refusal(['serve', '--http', '127.0.0.1:70000'])).toBe(
      "--http needs HOST, HOST:PORT or [IPV6]:PORT, not '127.0.0.1:70000'",
    );
    expect(refusal(['serve', '--http', 'localhost'])).toBe(
      "--http needs HOST:PORT, not 'localhost'",
    );
    expect(refusal(['serve', '--listen', ':4730'])).toBe("--listen needs an address, not ':4730'");
    expect(refusal(['serve', '--job-handle-prefix', 'a b'])).toBe(
      "--job-handle-prefix needs one word without spaces, not 'a b'",
    );
    expect(refusal(['serve', '-v', 'LOUD'])).toBe(
      "unknown verbose level 'LOUD' (FATAL, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG)",
    );
    expect(refusal(['serve', '--pid-file='])).toBe('--pid-file needs a file path');
  });

  it("says which option was meant, in its own words rather than parseArgs'", () => {
    expect(refusal(['serve', '--prot', '4730'])).toBe(
      "unknown option '--prot' (did you mean '--port'?)",
    );
    expect(refusal(['serve', '--job-retry', '3'])).toBe(
      "unknown option '--job-retry' (did you mean '--job-retries'?)",
    );
    expect(refusal(['serve', '--allow-remote'])).toBe(
      "unknown option '--allow-remote' (did you mean '--allow-remote-shutdown' or '--allow-remote-admin'?)",
    );
    expect(refusal(['serve', '--bogus'])).toBe("unknown option '--bogus'");
    expect(refusal(['serve', '-x'])).toBe("unknown option '-x'");
    expect(refusal(['serve', '-port', '4730'])).toBe(
      "unknown option '-port': long options take two dashes ('--port')",
    );
    expect(refusal(['serve', '--port'])).toBe('--port needs a value');
    expect(refusal(['serve', '--port', '--keepalive'])).toBe(
      "--port needs a value, not the option '--keepalive'",
    );
    expect(refusal(['serve', '--keepalive=yes'])).toBe("--keepalive takes no value, not 'yes'");
    expect(refusal(['serv'])).toBe("unknown command 'serv' (did you mean 'serve'?)");
    expect(refusal(['serve', 'now'])).toBe("unexpected argument 'now'");
  });

  it('reads help and version, for each command', () => {
    expect(parseCommandLine(['--help'], ENV)).toEqual({ kind: 'help', topic: 'serve' });
    expect(parseCommandLine(['import-gearmand', '-h'], ENV)).toEqual({
      kind: 'help',
      topic: 'import-gearmand',
    });
    expect(parseCommandLine(['--version'], ENV)).toEqual({ kind: 'version' });
  });

  it("reads the store options, gearmand's spellings included, and refuses what would lose jobs", () => {
    expect(serve(['--store', '/var/jobs.sqlite', '--durability', 'power-loss']).store).toEqual({
      kind: 'file',
      path: '/var/jobs.sqlite',
      table: undefined,
      durability: 'power-loss',
    });
    expect(
      serve(['-q', 'libsqlite3', '--libsqlite3-db', 'q.db', '--libsqlite3-table', 't']).store,
    ).toEqual({
      kind: 'file',
      path: 'q.db',
      table: 't',
      durability: 'process-crash',
    });
    expect(serve(['-q', 'builtin']).store).toEqual({ kind: 'memory' });
    expect(refusal(['serve', '--store-queue-on-shutdown'])).toMatch(/is refused: .*kill -9/);
    expect(refusal(['serve', '-q', 'mysql'])).toMatch(/queue type 'mysql' is not supported/);
    expect(refusal(['serve', '-q', 'libsqlite3'])).toBe('-q libsqlite3 needs --libsqlite3-db FILE');
    expect(refusal(['serve', '--durability', 'fsync'])).toBe(
      "--durability is process-crash or power-loss, not 'fsync'",
    );
  });

  it('reads a postgres:// store: the shared queue, the rest of the URL from PG* variables', () => {
    expect(serve(['--store', 'postgres://app@db:5433/jobs']).store).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://app@db:5433/jobs',
    });
    // Left to node-postgres, which fills what the URL omits from PGHOST, PGPORT, PGUSER...
    expect(serve(['--store', 'postgresql://']).store).toEqual({
      kind: 'postgres',
      connectionString: 'postgresql://',
    });
    expect(
      refusal(['serve', '--store', 'postgres://db/jobs', '--durability', 'power-loss']),
    ).toMatch(/^--durability is for an SQLite store/);
    expect(refusal(['import-gearmand', 'q.db', '--store', 'postgres://db/jobs'])).toBe(
      'import-gearmand needs a store file, not postgres',
    );
  });

  it('reads --job-policy flags; a bad one names the function and the setting', () => {
    expect(
      serve(['--job-policy', 'a attempts=2', '--job-policy', 'a attempts=4']).jobPolicies,
    ).toMatchObject({
      a: { attempts: 4 },
    });
    expect(refusal(['serve', '--job-policy', 'charge tries=3'])).toMatch(
      /^--job-policy charge: unknown setting 'tries=3'/,
    );
    expect(refusal(['serve', '--job-policy', 'charge none'])).toMatch(
      /^--job-policy needs 'FUNCTION SETTINGS'/,
    );
  });

  it('reads import-gearmand: the queue file, and the store of a port (4730 unless told)', () => {
    expect(
      parseCommandLine(['import-gearmand', 'q.db', '--table', 'gq', '-p', '4731'], ENV),
    ).toEqual({
      kind: 'import-gearmand',
      settings: {
        queueFile: 'q.db',
        table: 'gq',
        handlePrefix: undefined,
        store: {
          kind: 'default',
          dir: '/home/me/.local/state/geartrain',
          port: 4731,
          table: undefined,
          durability: 'process-crash',
        },
        logging: { verbose: 'ERROR', level: 'error', target: 'stderr' },
      },
    });
    expect(parseCommandLine(['import-gearmand', 'q.db'], ENV)).toMatchObject({
      settings: { store: { port: 4730 } },
    });
    expect(refusal(['import-gearmand'])).toBe('import-gearmand needs the gearmand queue file');
    expect(refusal(['import-gearmand', 'q.db', '--store', 'memory'])).toBe(
      'import-gearmand needs a store file, not memory',
    );
  });
});
