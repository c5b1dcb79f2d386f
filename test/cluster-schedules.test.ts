// Issue 32, item 6: cron under churn. One schedule ticking every 100 ms, defined by the
// configuration file of each of three `geartrain serve` nodes on one PostgreSQL queue (as a
// replica's file defines it in every replica), while random nodes are SIGKILLed and started
// again for 60 s, and a worker connected to all three completes the ticks' jobs: every tick
// has exactly one job (none twice, none missed). The jobs are read from the queue's tables at
// the end (kept outcomes and live jobs), so a job run twice after its node's death counts
// once, as it should. Every node is a child process of this test, stopped by its PID.
import { createWorker, type GearmanWorker } from '@geartrain/client';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pause, startNode, until } from './support/cluster.js';
import type { ServedCommand } from './support/command.js';
import { freePort } from './support/interop.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

const EVERY = 100;
const CHURN_MS = Number(process.env.GEARTRAIN_CHURN_MS ?? 60_000);

describeWithPostgres('schedules across geartrain serve nodes', () => {
  let db: PostgresServer;
  let dir: string;
  const started: ServedCommand[] = [];
  const workers: GearmanWorker[] = [];
  beforeAll(async () => {
    db = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'geartrain-cron-'));
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) await worker.close({ timeout: 0 }).catch(() => undefined);
    for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it(
    `ticks a ${EVERY} ms schedule exactly once per tick on three nodes SIGKILLed at random for ${CHURN_MS / 1000} s`,
    async () => {
      const config = join(dir, 'geartrain.json');
      writeFileSync(
        config,
        JSON.stringify({
          functions: { tick: { keep: { completed: { count: 1_000_000 } } } },
          schedules: { heartbeat: { every: EVERY, functionName: 'tick', catchUp: 'all' } },
        }),
      );
      const ports = [await freePort(), await freePort(), await freePort()];
      const start = async (port: number) => {
        const node = await startNode(db, port, ['--config', config]);
        started.push(node);
        return node;
      };
      const live: ServedCommand[] = [];
      for (const port of ports) live.push(await start(port));
      let runs = 0;
      const worker = createWorker({
        servers: ports.map((port) => `127.0.0.1:${port}`),
        connectTimeout: 1000,
        reconnectDelay: 50,
        maxReconnectDelay: 200,
      });
      workers.push(worker);
      worker.register(
        'tick',
        () => {
          runs++;
          return 'ok';
        },
        { concurrency: 8 },
      );
      await until(() => runs >= 5, 'the first ticks to run', 20_000);

      const end = Date.now() + CHURN_MS;
      let kills = 0;
      while (Date.now() < end) {
        // Paced, not awaited on: a node goes down every 1-3 s, and comes back at once.
        await pause(1000 + randomInt(2000));
        const k = randomInt(3);
        await live[k]!.stop('SIGKILL');
        kills++;
        live[k] = await start(ports[k]!);
      }
      // The last ticks' jobs run before the queue is read.
      const settled = runs;
      await until(() => runs >= settled + 5, 'ticks to go on after the churn', 20_000);
      for (const node of live) await node.stop('SIGKILL');

      const out = await db.psql(
        `SELECT unique_key FROM geartrain.outcomes WHERE function_name = 'tick'
       UNION ALL SELECT unique_key FROM geartrain.jobs WHERE function_name = 'tick'`,
      );
      const ticks = out
        .split('\n')
        .filter((line) => line !== '')
        .map((unique) => Number(unique.slice(unique.lastIndexOf(':') + 1)))
        .sort((x, y) => x - y);
      const twice = ticks.filter((tick, i) => i > 0 && tick === ticks[i - 1]);
      const gaps = ticks.filter((tick, i) => i > 0 && tick - ticks[i - 1]! !== EVERY);
      console.log(
        `cron under churn: ${ticks.length} ticks over ${((ticks.at(-1)! - ticks[0]!) / 1000).toFixed(1)} s, ` +
          `${kills} SIGKILLs, ${runs} runs (a job of a killed node runs again), ` +
          `${twice.length} ticks twice, ${gaps.length} gaps`,
      );
      expect(twice, 'ticks with more than one job').toEqual([]);
      expect(gaps, 'ticks missed (each the tick after the gap)').toEqual([]);
      expect(ticks.length).toBeGreaterThanOrEqual(Math.floor(CHURN_MS / EVERY) * 0.9);
      expect(kills).toBeGreaterThanOrEqual(Math.floor(CHURN_MS / 3000));
    },
    CHURN_MS + 120_000,
  );
});
