// Schedules, rate limits and their cost (issue 15):
//
// 1. Tick latency on the real clock: 1,000 ticks of one-second schedules, from the tick's
//    time to its job's submission (acknowledged: with the SQLite store, committed), p50,
//    p99 and max. Fifty schedules, their phases 20 ms apart, tick for 20 s (one schedule
//    would take 1,000 s; SCHEDULE_PARALLEL=1 runs it so).
// 2. Memory of 10,000 schedules and the timers they hold (schedules-memory.mjs).
// 3. A rate limit's accuracy: a function limited to 100 starts a second, drained by eager
//    workers for 60 s of virtual time; starts against the limit's 6,000 (+100 at t = 60 s).
import { createJobServer } from '@geartrain/core';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { createTestServer } from '@geartrain/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { report } from './lib.mjs';

const TICKS = 1000;
const PARALLEL = Number(process.env.SCHEDULE_PARALLEL ?? 50);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function latency(name, store) {
  const server = createJobServer({ store, keep: { completed: { count: 0 } } });
  await server.ready;
  server.worker().register('tick', () => undefined);
  const delays = [];
  const done = new Promise((resolve) => {
    const subscription = server.events$.subscribe((event) => {
      if (event.type !== 'scheduled') return;
      delays.push(performance.timeOrigin + performance.now() - event.tick);
      if (delays.length === TICKS) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
  for (let i = 0; i < PARALLEL; i++) {
    await server.schedule(`s${i}`, { every: 1000, functionName: 'tick' });
    // Phases apart, so that the ticks do not all fall in one millisecond.
    await new Promise((resolve) => setTimeout(resolve, 1000 / PARALLEL));
  }
  await done;
  for (let i = 0; i < PARALLEL; i++) await server.unschedule(`s${i}`);
  await server.close();
  const sorted = delays.sort((a, b) => a - b);
  report(`schedule-tick-${name}`, 'p50', percentile(sorted, 50), 'ms');
  report(`schedule-tick-${name}`, 'p99', percentile(sorted, 99), 'ms');
  report(`schedule-tick-${name}`, 'max', sorted.at(-1), 'ms');
}

async function limitAccuracy() {
  const t = createTestServer();
  await t.server.setFunctionLimits('call', { rate: { max: 100, duration: 1000 } });
  for (let w = 0; w < 4; w++) t.worker().register('call', () => 'ok', { concurrency: 8 });
  const client = t.client();
  for (let i = 0; i < 7000; i++) await client.submit('call', String(i), { background: true });
  await t.advanceBy(60_000);
  const started = t.finished().filter((job) => job.time < 60_000).length;
  report('rate-limit-60s-virtual', 'starts_per_limit', started / 6000, 'x');
  await t.close();
}

export async function run() {
  await latency('memory', null);
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-bench-schedules-'));
  try {
    await latency('sqlite', SqliteJobStore.open(join(dir, 'store.sqlite')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(new URL('./schedules-memory.mjs', import.meta.url))],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (child.status !== 0) throw new Error(`schedules-memory.mjs failed: ${child.stderr}`);
  process.stdout.write(child.stdout);
  await limitAccuracy();
}
