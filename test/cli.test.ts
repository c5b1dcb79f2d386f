import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, run } from './support/interop.js';

const cli = fileURLToPath(new URL('../packages/tcp/dist/cli.js', import.meta.url));

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
    const unknown = await run(process.execPath, [cli, 'serve', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
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
      { stdio: ['ignore', 'ignore', 'pipe'] },
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
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
