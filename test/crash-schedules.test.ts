// Kill test of schedules on the SQLite store (issue 15): an application with a schedule
// ticking every 20 ms, whose jobs a worker completes, is killed with SIGKILL at random
// moments and started again on the same file (catch-up: all). At the end, every tick from
// the first to the last one stored has exactly one job, live or kept as completed: no tick
// was submitted twice across a crash, and none was lost.
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/scheduled-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'geartrain-crash-schedules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CYCLES = 8;

/** Runs the application until `runs` of its jobs ran, then kills it. */
async function runUntil(file: string, runs: number): Promise<void> {
  const child = spawn(process.execPath, [fixture, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Bounded: the application is killed after 10 s whatever it printed.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  let ran = 0;
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('ran ') && ++ran === runs) break;
    }
  } finally {
    clearTimeout(timer);
    await kill(child);
  }
  if (ran < runs) throw new Error(`the application stopped after ${ran} jobs: ${stderr}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

describe('crash test: schedules under SIGKILL', () => {
  it('every tick has exactly one job across kills and restarts', { timeout: 60_000 }, async () => {
    const file = join(dir, 'schedules.sqlite');
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await runUntil(file, 5 + Math.floor(Math.random() * 20));
    }
    const store = SqliteJobStore.open(file);
    try {
      const [schedule] = store.listSchedules();
      expect(schedule?.id).toBe('tick');
      const uniques = [
        ...[...store.list()].map((job) => job.unique),
        ...store.listOutcomes().map((outcome) => outcome.unique),
      ];
      const ticks = uniques.map((u) => Number(u.slice('tick:'.length))).sort((a, b) => a - b);
      expect(new Set(ticks).size).toBe(ticks.length); // never twice
      const since = schedule!.since;
      const expected = [];
      for (let t = since + 20; t <= schedule!.lastTick!; t += 20) expected.push(t);
      expect(ticks).toEqual(expected); // and none lost, from the first tick to the last
      expect(ticks.length).toBeGreaterThan(CYCLES * 5);
    } finally {
      store.close();
    }
  });
});
