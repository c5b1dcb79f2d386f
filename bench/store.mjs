// npm run bench -- store
// The SQLite job store (issue 13), everything in one run, contenders alternated round by
// round; each ratio is the median of the round-by-round ratios.
//
// 1. In process: JOBS background jobs of 100 bytes submitted (BATCH at a time, each batch
//    awaited) and drained by an in-process worker, with no store, with the store in each
//    durability mode. Beside BullMQ on a local redis-server (appendonly yes, appendfsync
//    everysec): the same number of jobs added (addBulk, BATCH at a time) and processed by
//    a Worker (concurrency 64), as fast as BullMQ goes.
// 2. Over TCP, with the libgearman load generator (loadgen/gearman-load.c, `background`:
//    one client submits in task sets of 1000, then 4 workers drain): `geartrain serve`
//    with --store memory and with a store file, and gearmand 1.1.20 --threads=1 with
//    -q libsqlite3 (fewer jobs: it does a few hundred a second). The server's CPU time per
//    job (utime + stime from /proc/PID/stat) is reported beside the rates.
// 3. Restart: a store file holding 100,000 and 1,000,000 queued 100-byte jobs (written by
//    the store itself, as a killed server leaves it); `geartrain serve` is started on it,
//    and the time until a worker connected over TCP is assigned its first job is measured,
//    with the server's RSS then.
// 4. The file: its size before a 1,000,000-job burst, at the peak, and once it drained.
//
// Needs gearmand and libgearman-dev (scripts/install-test-deps.sh) and redis-server
// (scripts/install-bench-deps.sh).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJobServer } from '@geartrain/core';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { median, report } from './lib.mjs';
import { buildLoadgen, freePort, load, rssMiB, waitForPort } from './servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../packages/cli/bin/geartrain.js');
const JOBS = 200_000;
const BATCH = 1000;
const ROUNDS = 5;
const PAYLOAD = Buffer.alloc(100, 0x61);
const dir = mkdtempSync(join(tmpdir(), 'geartrain-bench-store-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `${++files}.sqlite`);
const removeFile = (path) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
};
const fileBytes = (path) =>
  statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

// ---------------------------------------------------------------------------------------
// 1. In process

async function inProcess(store, jobs = JOBS) {
  const server = createJobServer({ store });
  let done = 0;
  let drained;
  const all = new Promise((resolve) => (drained = resolve));
  server.worker().register(
    'work',
    () => {
      if (++done === jobs) drained();
    },
    { concurrency: 64 },
  );
  const client = server.client();
  const start = performance.now();
  for (let i = 0; i < jobs; i += BATCH) {
    const batch = new Array(BATCH);
    for (let k = 0; k < BATCH; k++) batch[k] = client.submit('work', PAYLOAD, { background: true });
    await Promise.all(batch);
  }
  await all;
  const seconds = (performance.now() - start) / 1000;
  await server.close({ timeout: 0 });
  return jobs / seconds;
}

async function withStoreFile(durability, body) {
  const path = freshFile();
  const store = SqliteJobStore.open(path, { durability });
  try {
    return await body(store);
  } finally {
    removeFile(path);
  }
}

function startRedis() {
  const redisDir = mkdtempSync(join(dir, 'redis-'));
  return freePort().then(async (port) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        redisDir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
    return {
      port,
      stop: async () => {
        child.kill('SIGKILL');
        await once(child, 'exit');
      },
    };
  });
}

/** BullMQ adding with addBulk (its fastest way), or one `add` per job (`perJob`). */
async function bullmq(redisPort, jobs, perJob = false) {
  const { Queue, Worker } = await import('bullmq');
  const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
  const name = `bench-${Date.now()}-${Math.random()}`;
  const queue = new Queue(name, { connection });
  let done = 0;
  let drained;
  const all = new Promise((resolve) => (drained = resolve));
  const worker = new Worker(
    name,
    async () => {
      if (++done === jobs) drained();
    },
    { connection, concurrency: 64, removeOnComplete: { count: 0 }, autorun: true },
  );
  await worker.waitUntilReady();
  const data = { payload: PAYLOAD.toString('latin1') };
  const start = performance.now();
  for (let i = 0; i < jobs; i += BATCH) {
    if (perJob) {
      const adds = new Array(BATCH);
      for (let k = 0; k < BATCH; k++) adds[k] = queue.add('work', data, { removeOnComplete: true });
      await Promise.all(adds);
      continue;
    }
    const batch = new Array(BATCH);
    for (let k = 0; k < BATCH; k++)
      batch[k] = { name: 'work', data, opts: { removeOnComplete: true } };
    await queue.addBulk(batch);
  }
  const added = performance.now();
  await all;
  const end = performance.now();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { addPerS: jobs / ((added - start) / 1000), jobsPerS: jobs / ((end - start) / 1000) };
}

async function inProcessSuite() {
  const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
  const redis = haveRedis ? await startRedis() : undefined;
  if (!haveRedis)
    process.stderr.write(
      'store bench: no redis-server (scripts/install-bench-deps.sh); BullMQ skipped\n',
    );
  const BULL_JOBS = 20_000;
  const contenders = {
    memory: () => inProcess(null),
    'process-crash': () => withStoreFile('process-crash', (store) => inProcess(store)),
    'power-loss': () => withStoreFile('power-loss', (store) => inProcess(store)),
  };
  if (redis !== undefined) {
    contenders.bullmq = () => bullmq(redis.port, BULL_JOBS);
    contenders['bullmq-add'] = () => bullmq(redis.port, BULL_JOBS, true);
  }
  const rounds = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (const run of Object.values(contenders)) await run(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(contenders)) rounds[name].push(await run());
  }
  await redis?.stop();
  const rate = (name) => rounds[name].map((r) => (typeof r === 'number' ? r : r.jobsPerS));
  for (const name of ['memory', 'process-crash', 'power-loss']) {
    report(`store-in-process-${name}`, 'submit_and_drain_jobs_per_s', median(rate(name)), 'jobs/s');
  }
  const pairwise = (a, b) => median(rate(a).map((x, i) => x / rate(b)[i]));
  report(
    'store-in-process-process-crash',
    'ratio_to_no_store',
    pairwise('process-crash', 'memory'),
    'x',
  );
  if (redis !== undefined) {
    report(
      'store-in-process-bullmq',
      'add_and_process_jobs_per_s',
      median(rate('bullmq')),
      'jobs/s',
      'bullmq',
    );
    report(
      'store-in-process-bullmq',
      'add_jobs_per_s',
      median(rounds.bullmq.map((r) => r.addPerS)),
      'jobs/s',
      'bullmq',
    );
    report(
      'store-in-process-bullmq-add',
      'add_and_process_jobs_per_s',
      median(rate('bullmq-add')),
      'jobs/s',
      'bullmq (add per job)',
    );
    for (const mode of ['process-crash', 'power-loss']) {
      const bench = `store-in-process-${mode}`;
      report(bench, 'ratio_to_bullmq', pairwise(mode, 'bullmq'), 'x', 'bullmq (addBulk)');
      report(bench, 'ratio_to_bullmq', pairwise(mode, 'bullmq-add'), 'x', 'bullmq (add per job)');
    }
  }
}

// ---------------------------------------------------------------------------------------
// 2. Over TCP

function spawnServer(kind, port, file) {
  switch (kind) {
    case 'geartrain-memory':
      return spawn(
        process.execPath,
        [cli, 'serve', '--port', String(port), '--log-file', 'none', '--store', 'memory'],
        { stdio: 'ignore' },
      );
    case 'geartrain-store':
      return spawn(
        process.execPath,
        [cli, 'serve', '--port', String(port), '--log-file', 'none', '--store', file],
        { stdio: 'ignore' },
      );
    case 'gearmand-libsqlite3':
    case 'gearmand-libsqlite3-default-threads':
      return spawn(
        'gearmand',
        [
          '--listen=127.0.0.1',
          `--port=${port}`,
          '--log-file=none',
          ...(kind === 'gearmand-libsqlite3' ? ['--threads=1'] : []),
          '-q',
          'libsqlite3',
          `--libsqlite3-db=${file}`,
        ],
        { stdio: 'ignore' },
      );
  }
  throw new Error(kind);
}

async function overTcp(loadgen, kind, jobs) {
  const port = await freePort();
  const file = freshFile();
  const child = spawnServer(kind, port, file);
  try {
    await waitForPort(port);
    load(loadgen, port, 'background', Math.min(2000, jobs), 4); // warm-up
    const cpu = cpuSeconds(child.pid);
    const result = load(loadgen, port, 'background', jobs, 4);
    return { ...result, cpuUsPerJob: ((cpuSeconds(child.pid) - cpu) * 1e6) / jobs };
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
    removeFile(file);
  }
}

async function tcpSuite() {
  const loadgen = buildLoadgen();
  const contenders = {
    'geartrain-memory': () => overTcp(loadgen, 'geartrain-memory', 50_000),
    'geartrain-store': () => overTcp(loadgen, 'geartrain-store', 50_000),
    'gearmand-libsqlite3': () => overTcp(loadgen, 'gearmand-libsqlite3', 3000),
    'gearmand-libsqlite3-default-threads': () =>
      overTcp(loadgen, 'gearmand-libsqlite3-default-threads', 3000),
  };
  const rounds = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let round = 0; round < 3; round++) {
    for (const [name, run] of Object.entries(contenders)) rounds[name].push(await run());
  }
  const figure = (name, key) => rounds[name].map((r) => r[key]);
  for (const name of Object.keys(contenders)) {
    const peer = name.startsWith('gearmand')
      ? `gearmand${name.endsWith('default-threads') ? '' : ' --threads=1'} -q libsqlite3`
      : undefined;
    const bench = `store-tcp-background-${name}`;
    report(
      bench,
      'submit_and_drain_jobs_per_s',
      median(figure(name, 'jobs_per_s')),
      'jobs/s',
      peer,
    );
    report(bench, 'submit_jobs_per_s', median(figure(name, 'submit_per_s')), 'jobs/s', peer);
    report(bench, 'server_cpu_per_job', median(figure(name, 'cpuUsPerJob')), 'us', peer);
  }
  const pairwise = (a, b) =>
    median(figure(a, 'jobs_per_s').map((x, i) => x / figure(b, 'jobs_per_s')[i]));
  report(
    'store-tcp-background-geartrain-store',
    'ratio_to_no_store',
    pairwise('geartrain-store', 'geartrain-memory'),
    'x',
  );
  for (const [peer, name] of [
    ['gearmand --threads=1 -q libsqlite3', 'gearmand-libsqlite3'],
    ['gearmand -q libsqlite3', 'gearmand-libsqlite3-default-threads'],
  ]) {
    const ratio = pairwise('geartrain-store', name);
    report(
      'store-tcp-background-geartrain-store',
      'ratio_to_gearmand_libsqlite3',
      ratio,
      'x',
      peer,
    );
  }
}

// ---------------------------------------------------------------------------------------
// 3. Restart, 4. the file

/** Writes `count` queued 100-byte jobs into a new store file, as a killed server leaves them. */
async function filledStore(count) {
  const path = freshFile();
  const store = SqliteJobStore.open(path);
  const writes = [];
  for (let seq = 1; seq <= count; seq++) {
    writes.push(
      store.add({
        seq,
        id: `H:bench:${seq}`,
        functionName: 'work',
        unique: '',
        priority: 'normal',
        payload: PAYLOAD,
        runAt: 0,
        reducer: '',
        attempts: 0,
        retry: null,
      }),
    );
    if (writes.length === 10_000) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  store.close();
  return path;
}

/** A raw worker: connects as soon as the port opens, CAN_DO + GRAB_JOB_UNIQ until assigned. */
async function firstAssignment(port, deadline) {
  const packet = (type, body) => {
    const header = Buffer.alloc(12);
    header.write('\0REQ', 0, 'latin1');
    header.writeUInt32BE(type, 4);
    header.writeUInt32BE(body.length, 8);
    return Buffer.concat([header, body]);
  };
  for (;;) {
    if (performance.now() > deadline) throw new Error('no job assigned in time');
    const socket = createConnection({ host: '127.0.0.1', port });
    const ok = await new Promise((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!ok) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    socket.write(Buffer.concat([packet(1, Buffer.from('work')), packet(30, Buffer.alloc(0))]));
    let buffered = Buffer.alloc(0);
    const assigned = await new Promise((resolve) => {
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 12) {
          const type = buffered.readUInt32BE(4);
          const size = buffered.readUInt32BE(8);
          if (buffered.length < 12 + size) return;
          buffered = buffered.subarray(12 + size);
          if (type === 31)
            resolve(true); // JOB_ASSIGN_UNIQ
          else if (type === 10) socket.write(packet(30, Buffer.alloc(0))); // NO_JOB: again
        }
      });
      socket.once('close', () => resolve(false));
    });
    socket.destroy();
    if (assigned) return;
  }
}

async function restartSuite() {
  for (const count of [100_000, 1_000_000]) {
    const path = await filledStore(count);
    const times = [];
    let rss = 0;
    for (let round = 0; round < 3; round++) {
      const port = await freePort();
      const start = performance.now();
      const child = spawn(
        process.execPath,
        [cli, 'serve', '--port', String(port), '--log-file', 'none', '--store', path],
        { stdio: 'ignore' },
      );
      try {
        await firstAssignment(port, start + 60_000);
        times.push((performance.now() - start) / 1000);
        rss = rssMiB(child.pid);
      } finally {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    report(`store-restart-${count}-queued`, 'seconds_to_first_assignment', median(times), 's');
    report(`store-restart-${count}-queued`, 'rss_after_replay', rss, 'MiB');
    removeFile(path);
  }

  // The file through a burst of 1,000,000 jobs that drains.
  const path = freshFile();
  let over;
  const vacuumed = new Promise((resolve) => (over = resolve));
  const store = SqliteJobStore.open(path, { onVacuum: (_f, _l, done) => done && over() });
  const before = fileBytes(path);
  const server = createJobServer({ store });
  const client = server.client();
  for (let i = 0; i < 1_000_000; i += 10_000) {
    const batch = [];
    for (let k = 0; k < 10_000; k++)
      batch.push(client.submit('work', PAYLOAD, { background: true }));
    await Promise.all(batch);
  }
  const peak = fileBytes(path);
  let done = 0;
  let drained;
  const all = new Promise((resolve) => (drained = resolve));
  server
    .worker()
    .register('work', () => void (++done === 1_000_000 && drained()), { concurrency: 64 });
  await all;
  // The store's timers do not keep a process alive (unref); this one does, until it is over.
  const alive = setInterval(() => undefined, 1000);
  await vacuumed;
  clearInterval(alive);
  const after = fileBytes(path);
  await server.close({ timeout: 0 });
  report('store-file-1m-burst', 'bytes_before', before, 'B');
  report('store-file-1m-burst', 'bytes_at_peak', peak, 'B');
  report('store-file-1m-burst', 'bytes_after_drain', after, 'B');
  report('store-file-1m-burst', 'after_to_before', after / before, 'x');
  removeFile(path);
}

export async function run() {
  const only = process.env.STORE_BENCH?.split(',');
  if (only === undefined || only.includes('in-process')) await inProcessSuite();
  if (only === undefined || only.includes('tcp')) await tcpSuite();
  if (only === undefined || only.includes('restart')) await restartSuite();
}
