// Kill tests of the SQLite store (issue 13): a server with a store file runs as a child
// process under a mixed load (priorities, unique ids, jobs delayed 20 minutes and a few
// hundred ms, binary payloads, jobs running) and is killed with SIGKILL at random moments,
// then started again on the same file. After every restart, and at the end:
//
// - every acknowledged job is there: its handle answers GET_STATUS, it runs (unless it is
//   delayed 20 minutes, then it is still known and has not run), with its payload intact;
// - no job runs before its time;
// - a job runs twice only across a kill (it was running, or its end was not yet committed,
//   when the process died), never twice in one lifetime but for a retry: one job in five
//   fails its first attempt and is retried (3 attempts, 50 ms apart), so jobs wait between
//   attempts at the kills too.
import {
  createClient,
  createWorker,
  type GearmanClient,
  type GearmanWorker,
} from '@geartrain/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../packages/cli/bin/geartrain.js', import.meta.url));
const embedded = fileURLToPath(new URL('./fixtures/embedded-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'geartrain-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CYCLES = 10;
const TWENTY_MINUTES = 20 * 60_000;

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Child {
  readonly process: ChildProcess;
  readonly address: string;
}

/** Starts a server and waits for the line that says where it listens. */
async function start(command: string[]): Promise<Child> {
  const child = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    for await (const line of lines) {
      const match = /listening on (\S+?)[;\s]/.exec(`${line} `);
      if (match !== null) return { process: child, address: match[1]! };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`the server exited before listening: ${stderr}`);
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) {
    const exited = once(child.process, 'exit');
    child.process.kill('SIGKILL');
    await exited;
  }
}

interface Submitted {
  readonly token: string;
  readonly payload: Buffer;
  readonly runAt: number;
  readonly unique: string;
  handle?: string;
}

interface Run {
  readonly token: string;
  readonly lifetime: number;
  readonly at: number;
  readonly handle: string;
  readonly intact: boolean;
  /** The handler failed this attempt on purpose (a flaky job's first attempt). */
  readonly failed: boolean;
}

/**
 * One job in five fails its first attempt (the harness remembers which failed: a Gearman
 * worker is not told the attempt number); the servers retry `run` jobs (3 attempts, 50 ms).
 */
const failedOnce = new Set<string>();
function failsNow(token: string): boolean {
  if (Number(token.slice(1)) % 5 !== 0 || failedOnce.has(token)) return false;
  failedOnce.add(token);
  return true;
}
const RUN_POLICY = 'run attempts=3,backoff=fixed,delay=50';

async function crashCycles(command: string[], seed: number): Promise<void> {
  failedOnce.clear();
  const random = prng(seed);
  const submitted = new Map<string, Submitted>();
  const runs: Run[] = [];
  let lifetime = 0;
  let next = 0;

  /** One lifetime of the server: load until `acks` acknowledgements, then SIGKILL. */
  const live = async (acks: number | undefined): Promise<void> => {
    lifetime++;
    const here = lifetime;
    const child = await start(command);
    const client: GearmanClient = createClient({ servers: [child.address] });
    const worker: GearmanWorker = createWorker({ servers: [child.address] });
    try {
      // Before any work: every acknowledged job that has not run is known by its handle.
      for (const job of submitted.values()) {
        if (job.handle === undefined || runs.some((r) => r.token === job.token)) continue;
        const status = await client.status(job.handle);
        expect(status.known, `${job.handle} (${job.token}) after restart ${here}`).toBe(true);
      }
      worker.register(
        'run',
        async (job) => {
          const payload = job.payload;
          const token = payload.subarray(0, payload.indexOf(0)).toString();
          const expected = submitted.get(token);
          const failed = failsNow(token);
          runs.push({
            token,
            lifetime: here,
            at: Date.now(),
            handle: job.handle,
            intact: expected !== undefined && expected.payload.equals(payload),
            failed,
          });
          // Some jobs take a while, so that some are running at the kill.
          if (random() < 0.3) await new Promise((r) => setTimeout(r, 1 + random() * 20));
          if (failed) throw new Error('flaky: first attempt fails');
          return 'ok';
        },
        { concurrency: 4 },
      );
      if (acks === undefined) return;
      let acked = 0;
      let reached!: () => void;
      const enough = new Promise<void>((resolve) => (reached = resolve));
      const submitOne = async (): Promise<void> => {
        while (acked < acks) {
          const token = `t${++next}`;
          const kind = random();
          const runAt =
            kind < 0.1
              ? Date.now() + TWENTY_MINUTES
              : kind < 0.25
                ? Date.now() + random() * 400
                : 0;
          const unique = random() < 0.3 ? `u-${token}` : '';
          const tail = Buffer.from(
            Array.from({ length: Math.floor(random() * 64) }, () => (random() * 256) | 0),
          );
          const payload = Buffer.concat([Buffer.from(token), Buffer.from([0]), tail]);
          const job: Submitted = { token, payload, runAt: Math.round(runAt), unique };
          submitted.set(token, job);
          const priority = (['high', 'normal', 'low'] as const)[Math.floor(random() * 3)];
          try {
            const accepted = await client.submit('run', payload, {
              background: true,
              priority,
              unique: unique || undefined,
              runAt: job.runAt || undefined,
            });
            job.handle = accepted.handle;
            if (++acked === acks) reached();
          } catch {
            return; // the server went away: this one was not acknowledged
          }
        }
      };
      const submitters = Array.from({ length: 8 }, submitOne);
      await enough;
      await kill(child);
      await Promise.allSettled(submitters);
    } finally {
      if (acks !== undefined) await kill(child);
      client.close();
      await worker.stop({ timeout: 0 }).catch(() => undefined);
      if (acks === undefined) await kill(child);
    }
  };

  for (let cycle = 0; cycle < CYCLES; cycle++) await live(20 + Math.floor(random() * 150));

  // The last lifetime: no kill; everything due runs.
  lifetime++;
  const final = lifetime;
  const child = await start(command);
  const client = createClient({ servers: [child.address] });
  const worker = createWorker({ servers: [child.address] });
  try {
    const acked = [...submitted.values()].filter((j) => j.handle !== undefined);
    const due = acked.filter((j) => j.runAt === 0 || j.runAt < Date.now() + TWENTY_MINUTES / 2);
    for (const job of acked) {
      if (runs.some((r) => r.token === job.token)) continue;
      expect((await client.status(job.handle!)).known, `${job.handle} at the end`).toBe(true);
    }
    let drained!: () => void;
    const allRan = new Promise<void>((resolve) => (drained = resolve));
    const ran = new Set(runs.filter((r) => !r.failed).map((r) => r.token));
    const check = () => {
      if (due.every((j) => ran.has(j.token))) drained();
    };
    worker.register(
      'run',
      (job) => {
        const payload = job.payload;
        const token = payload.subarray(0, payload.indexOf(0)).toString();
        const failed = failsNow(token);
        runs.push({
          token,
          lifetime: final,
          at: Date.now(),
          handle: job.handle,
          intact: submitted.get(token)?.payload.equals(payload) ?? false,
          failed,
        });
        if (failed) throw new Error('flaky: first attempt fails');
        ran.add(token);
        check();
        return 'ok';
      },
      { concurrency: 8 },
    );
    check();
    const timeout = setTimeout(drained, 20_000);
    await allRan;
    clearTimeout(timeout);
    const missing = due.filter((j) => !ran.has(j.token)).map((j) => `${j.token} ${j.handle}`);
    expect(missing, 'acknowledged jobs that never ran').toEqual([]);

    // Long-delayed jobs: still known by handle and by unique id, never run.
    for (const job of acked.filter((j) => !due.includes(j))) {
      expect(ran.has(job.token), `${job.token} ran 20 minutes early`).toBe(false);
      expect((await client.status(job.handle!)).known).toBe(true);
      if (job.unique !== '') {
        const again = await client.submit('run', 'again', { background: true, unique: job.unique });
        expect(again.handle, 'a same-unique submission coalesces onto it').toBe(job.handle);
      }
    }
  } finally {
    client.close();
    await worker.stop({ timeout: 0 }).catch(() => undefined);
    await kill(child);
  }

  const byToken = new Map<string, Run[]>();
  for (const run of runs) {
    expect(run.intact, `payload of ${run.token}`).toBe(true);
    const job = submitted.get(run.token)!;
    if (job.runAt > 0) expect(run.at, `${run.token} ran early`).toBeGreaterThanOrEqual(job.runAt);
    if (job.handle !== undefined) expect(run.handle).toBe(job.handle);
    byToken.set(run.token, [...(byToken.get(run.token) ?? []), run]);
  }
  let twice = 0;
  let retried = 0;
  for (const [token, list] of byToken) {
    // In one lifetime a job runs again only after a failed attempt: never twice for nothing.
    for (const life of new Set(list.map((r) => r.lifetime))) {
      const inLife = list.filter((r) => r.lifetime === life);
      for (const run of inLife.slice(0, -1)) {
        expect(run.failed, `${token} ran twice in lifetime ${life}`).toBe(true);
      }
    }
    if (list.some((r) => r.failed)) retried++;
    if (list.filter((r) => !r.failed).length > 1) twice++;
  }
  expect(retried, 'flaky jobs were retried').toBeGreaterThan(0);
  // Reruns are the jobs caught by a kill: a handful per kill, not a replay of everything.
  expect(twice).toBeLessThanOrEqual(CYCLES * 12);
  expect(runs.length).toBeGreaterThan(CYCLES * 20);
}

describe('crash tests: SIGKILL under load, restart on the same store file', () => {
  const seed = Number(process.env['CRASH_SEED'] ?? Date.now() % 1_000_000);

  it(`geartrain serve --store FILE (seed ${seed})`, { timeout: 60_000 }, async () => {
    const file = join(dir, 'serve.sqlite');
    await crashCycles(
      [
        cli,
        'serve',
        '--port',
        '0',
        '--store',
        file,
        '--log-file',
        'none',
        '--job-policy',
        RUN_POLICY,
      ],
      seed,
    );
  });

  it(
    `an application embedding createJobServer with the store (seed ${seed})`,
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'embedded.sqlite');
      await crashCycles([embedded, file], seed + 1);
    },
  );
});
