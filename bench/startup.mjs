// npm run bench -- startup
// How long after spawn a server answers ECHO_REQ: `geartrain serve` (with its log off, as
// test harnesses run it, and with the default log to stderr), gearmand, and, when
// GEARTRAIN_BASELINE names an older build's command, that build. Starts alternate between
// the contenders; each figure is the median of STARTS. `node-empty` is the floor: the
// time from spawn to the exit of `node -e 0`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './lib.mjs';
import { freePort } from './servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const STARTS = 15;
const ECHO = Buffer.from([0, 0x52, 0x45, 0x51, 0, 0, 0, 16, 0, 0, 0, 1, 0x61]);

/** Resolves true once `port` answers an ECHO_REQ, false if the connection fails. */
function echoes(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let got = 0;
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write(ECHO));
    socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= 13) {
        socket.destroy();
        resolve(true);
      }
    });
  });
}

/** ms from spawn to the first ECHO_RES (polled every 2 ms, at most 10 s). */
async function timeToEcho(command, args) {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(command, args(port), { stdio: 'ignore' });
  try {
    for (let i = 0; i < 5000; i++) {
      if (await echoes(port)) return performance.now() - start;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`${command} did not answer within 10 s`);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

async function timeToExit(command, args) {
  const start = performance.now();
  const child = spawn(command, args, { stdio: 'ignore' });
  await once(child, 'exit');
  return performance.now() - start;
}

let stores = 0;
const storeDir = mkdtempSync(join(tmpdir(), 'geartrain-startup-'));
process.once('exit', () => rmSync(storeDir, { recursive: true, force: true }));
const storeFile = () => join(storeDir, `${++stores}.sqlite`);

export async function run() {
  const cli = join(here, '../packages/cli/bin/geartrain.js');
  const node = process.execPath;
  const serve =
    (path, ...extra) =>
    (port) => [path, 'serve', '--port', String(port), ...extra];
  const contenders = {
    'geartrain-log-off': () =>
      timeToEcho(node, serve(cli, '--log-file', 'none', '--store', 'memory')),
    'geartrain-log-stderr': () =>
      timeToEcho(node, serve(cli, '--verbose', 'ERROR', '--store', 'memory')),
    // The default: jobs kept in an SQLite file (a new one each time).
    'geartrain-sqlite-store': () =>
      timeToEcho(node, serve(cli, '--log-file', 'none', '--store', storeFile())),
    gearmand: () =>
      timeToEcho('gearmand', (port) => ['--listen=127.0.0.1', `--port=${port}`, '--log-file=none']),
    'node-empty': () => timeToExit(node, ['-e', '0']),
  };
  const baseline = process.env.GEARTRAIN_BASELINE;
  if (baseline) {
    contenders['geartrain-baseline-log-off'] = () =>
      timeToEcho(node, serve(baseline, '--log-file', 'none'));
    contenders['geartrain-baseline-log-stderr'] = () =>
      timeToEcho(node, serve(baseline, '--verbose', 'ERROR'));
  }
  const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let i = 0; i < STARTS; i++) {
    for (const [name, measure] of Object.entries(contenders)) times[name].push(await measure());
  }
  for (const [name, values] of Object.entries(times)) {
    const [bench, peer] = name.startsWith('geartrain-log')
      ? [`startup-${name.slice('geartrain-'.length)}`, undefined]
      : name.startsWith('geartrain-baseline')
        ? [`startup-${name.slice('geartrain-baseline-'.length)}`, 'geartrain-baseline']
        : ['startup', name];
    report(bench, 'ms_to_first_echo', median(values), 'ms', peer);
  }
  if (baseline) {
    for (const log of ['log-off', 'log-stderr']) {
      const ratios = times[`geartrain-${log}`].map(
        (t, i) => t / times[`geartrain-baseline-${log}`][i],
      );
      report(`startup-${log}`, 'ms_ratio_to_baseline', median(ratios), 'x');
    }
  }
}
