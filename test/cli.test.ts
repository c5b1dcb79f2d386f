import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@geartrain/client';
import { geartrain, serveCommand } from './support/command.js';
import { freePort, run } from './support/interop.js';

const state = mkdtempSync(join(tmpdir(), 'geartrain-cli-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));
/** The command's environment: its default store goes under a folder of this test. */
const env = { ...process.env, XDG_STATE_HOME: state };
const cli = geartrain;

/** Starts `geartrain serve --port 0 ARGS`: each test names its store. */
function serve(args: string[], nodeFlags: string[] = []) {
  return serveCommand(['--port', '0', ...args], { env, nodeFlags });
}

describe('the geartrain command', () => {
  it('prints its help and version, and refuses bad arguments with exit 2', async () => {
    const help = await run(process.execPath, [cli, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toContain('Usage: geartrain serve [options]');
    expect(help.stdout.toString()).toContain('--threads N');
    expect((await run(process.execPath, [cli, '--version'])).stdout.toString()).toBe('0.1.0\n');
    const bad = await run(process.execPath, [cli, 'serve', '--port', 'abc']);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "geartrain: --port needs a whole number, not 'abc'\nTry 'geartrain --help'.\n",
    ]);
    expect(help.stdout.toString()).toContain('-w, --worker-wakeup N');
    for (const [arg, message] of [
      ['--worker-wakeup=-1', "--worker-wakeup needs a whole number ≥ 0, not '-1'"],
      ['--wake-timeout=0', "--wake-timeout needs a whole number ≥ 1, not '0'"],
    ] as const) {
      const refused = await run(process.execPath, [cli, 'serve', arg]);
      expect([refused.code, refused.stderr]).toEqual([
        2,
        `geartrain: ${message}\nTry 'geartrain --help'.\n`,
      ]);
    }
    // parseArgs' own texts spoke of positional arguments, with an unbalanced quote.
    for (const [args, message] of [
      [['--bogus'], "unknown option '--bogus'"],
      [['--prot', '4730'], "unknown option '--prot' (did you mean '--port'?)"],
      [['--port', '-1'], "--port needs a whole number from 0 to 65535, not '-1'"],
      [['--port'], '--port needs a value'],
    ] as const) {
      const refused = await run(process.execPath, [cli, 'serve', ...args]);
      expect([refused.code, refused.stderr]).toEqual([
        2,
        `geartrain: ${message}\nTry 'geartrain --help'.\n`,
      ]);
    }
  });

  it('serves, logs JSON, writes its pid file, and stops gracefully on SIGTERM', async () => {
    const port = await freePort();
    const pidFile = join(tmpdir(), `geartrain-test-${process.pid}.pid`);
    const child = spawn(
      process.execPath,
      [
        cli,
        'serve',
        '-L',
        '127.0.0.1',
        '-p',
        String(port),
        '--verbose',
        'INFO',
        '--pid-file',
        pidFile,
        '-t',
        '4',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      // Bounded: 10 s for a slow, loaded machine.
      for (let i = 0; i < 500 && !log.includes('"listening"'); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(readFileSync(pidFile, 'utf8')).toBe(`${child.pid}\n`);
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.write('version\n');
      const [reply] = (await once(socket, 'data')) as [Buffer];
      socket.destroy();
      expect(reply.toString()).toBe('OK 0.1.0\n');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(existsSync(pidFile)).toBe(false);
      const lines = log
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string });
      expect(lines.map((l) => l.msg)).toEqual([
        '--threads is ignored: connections are served on one event loop',
        'listening',
        'stopping',
        'stopped',
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("takes gearmand's queue options, and refuses what would lose jobs", async () => {
    const file = join(state, 'gearmand-style.sqlite');
    const served = await serve([
      '-q',
      'libsqlite3',
      '--libsqlite3-db',
      file,
      '--durability',
      'power-loss',
    ]);
    expect(served.line).toContain(`jobs stored in ${file} (power-loss)`);
    await served.stop();
    const memory = await serve(['--store', 'memory']);
    expect(memory.line).toContain('jobs stored in memory (jobs are lost at exit)');
    await memory.stop();
    for (const [args, message] of [
      [['--store-queue-on-shutdown'], /--store-queue-on-shutdown is refused: .*kill -9/],
      [['-q', 'mysql'], /queue type 'mysql' is not supported/],
      [['-q', 'libsqlite3'], /-q libsqlite3 needs --libsqlite3-db FILE/],
      [['--durability', 'fsync'], /--durability is process-crash or power-loss/],
    ] as const) {
      const refused = await run(process.execPath, [cli, 'serve', '--port', '0', ...args]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
  });

  it('takes policies with --job-policy, shown by the policy admin command', async () => {
    const served = await serve([
      '--store',
      'memory',
      '--job-policy',
      'charge attempts=3,backoff=exponential,delay=1000,max=60000,keep-completed=50',
    ]);
    try {
      const [host, port] = served.address.split(':');
      const socket = createConnection({ host, port: Number(port) });
      socket.write('policy charge\n');
      const [reply] = (await once(socket, 'data')) as [Buffer];
      socket.destroy();
      expect(reply.toString()).toBe(
        'OK attempts=3,backoff=exponential,delay=1000,max=60000,keep-completed=50\n',
      );
    } finally {
      await served.stop();
    }
    const bad = await run(process.execPath, [cli, 'serve', '--job-policy', 'charge tries=3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--job-policy charge: unknown setting 'tries=3'/);
  });

  it('serves the dashboard and its metrics with --http, on loopback, beside the Gearman port', async () => {
    const port = await freePort();
    const served = await serve(['--store', 'memory', '--http', `127.0.0.1:${port}`]);
    try {
      expect(served.line).toContain(
        `dashboard on http://127.0.0.1:${port}/, metrics on http://127.0.0.1:${port}/metrics`,
      );
      const pageResponse = await fetch(`http://127.0.0.1:${port}/`);
      expect(pageResponse.status).toBe(200);
      expect(await pageResponse.text()).toContain('<title>geartrain</title>');
      const [host, gearmanPort] = served.address.split(':');
      const socket = createConnection({ host, port: Number(gearmanPort) });
      socket.write('create function mail\n');
      await once(socket, 'data');
      socket.destroy();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('gearman_up 1');
      expect(text).toContain('gearman_jobs{function="mail"} 0');
      expect(text).toContain('process_cpu_seconds_total');
    } finally {
      await served.stop();
    }
    const bad = await run(process.execPath, [cli, 'serve', '--port', '0', '--http', 'localhost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--http needs HOST:PORT/);
  });

  it("keeps V8's young generation at its first size under a queue, unless node was told a size", async () => {
    // Decision 30: 100,000 queued jobs grow it to 32 MiB on Node 20 (128 MiB on Node 24).
    const youngGeneration = async (nodeFlags: string[]) => {
      const port = await freePort();
      const served = await serve(['--store', 'memory', '--http', `127.0.0.1:${port}`], nodeFlags);
      try {
        const client = createClient({ servers: [served.address] });
        const tasks = Array.from({ length: 1000 }, (_, i) => ({
          functionName: 'later',
          payload: `job-${i}`,
          background: true,
        }));
        for (let i = 0; i < 100; i++) await client.submitAll(tasks);
        client.close();
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toContain('gearman_jobs{function="later"} 100000');
        const size = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(text);
        return Number(size![1]);
      } finally {
        await served.stop();
      }
    };
    expect(await youngGeneration([])).toBeLessThanOrEqual(4 << 20);
    expect(await youngGeneration(['--max-semi-space-size=16'])).toBeGreaterThan(8 << 20);
  });

  it('loads policies, limits and schedules from --config; a pause made by admin survives', async () => {
    const config = join(state, 'geartrain.json');
    writeFileSync(
      config,
      JSON.stringify({
        jobPolicies: { charge: { attempts: 3, backoff: 500 } },
        limits: { charge: { rate: { max: 10, duration: 1000 }, concurrency: 2 } },
        schedules: {
          nightly: { cron: '0 0 3 * * *', timezone: 'Europe/Berlin', functionName: 'report' },
        },
      }),
    );
    const store = join(state, 'config.sqlite');
    const ask = async (address: string, lines: string[], count: number) => {
      const [host, port] = address.split(':');
      const socket = createConnection({ host, port: Number(port) });
      socket.write(lines.map((line) => `${line}\n`).join(''));
      let text = '';
      for await (const chunk of socket) {
        text += (chunk as Buffer).toString();
        if (text.split('\n').length > count) break;
      }
      socket.destroy();
      return text;
    };
    let served = await serve(['--store', store, '--config', config]);
    try {
      expect(
        await ask(
          served.address,
          ['policy charge', 'limit charge', 'show schedules', 'pause report'],
          5,
        ),
      ).toMatch(
        /^OK attempts=3,backoff=fixed,delay=500\nOK rate=10\/1000,concurrency=2\nnightly\treport\tcron=0 0 3 \* \* \*\tEurope\/Berlin\tnext=\S+\tlast=-\n\.\nOK\r\n$/,
      );
    } finally {
      await served.stop();
    }
    served = await serve(['--store', store, '--config', config]);
    try {
      expect(await ask(served.address, ['show functions'], 3)).toBe(
        'charge\tactive\trate=10/1000,concurrency=2\nreport\tpaused\tnone\n.\n',
      );
    } finally {
      await served.stop();
    }
    writeFileSync(config, JSON.stringify({ schedules: { x: { every: 0, functionName: 'f' } } }));
    const bad = await run(process.execPath, [cli, 'serve', '--port', '0', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^geartrain: config \S+geartrain\.json: schedules\.x: every must be a whole number/,
    );
    writeFileSync(config, '{"colours": {}}');
    const unknown = await run(process.execPath, [cli, 'serve', '--port', '0', '--config', config]);
    expect(unknown.stderr).toMatch(/unknown section 'colours'/);
    // A policy's retention is checked as the API checks it, and named by its path.
    const policy = { jobPolicies: { charge: { attempts: 3, keep: { failed: { count: 'all' } } } } };
    writeFileSync(config, JSON.stringify(policy));
    const args = [cli, 'serve', '--port', '0', '--store', 'memory', '--config', config];
    const badKeep = await run(process.execPath, args);
    expect(badKeep.code).toBe(2);
    expect(badKeep.stderr).toMatch(
      /jobPolicies\.charge\.keep\.failed\.count must be a whole number/,
    );
  });
});
