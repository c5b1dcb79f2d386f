// Issue 31, item 7: three `geartrain serve --store postgres://…` nodes as child processes,
// SIGKILLed at random under a mixed load, and PostgreSQL restarted under load. Every node is
// a child process of this test, stopped by its PID; every wait is bounded.
import { createClient, createWorker, type GearmanClient } from '@geartrain/client';
import type { GearmanWorker } from '@geartrain/client';
import type { Priority } from '@geartrain/core';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { pause, startNode, until } from './support/cluster.js';
import type { ServedCommand } from './support/command.js';
import { freePort } from './support/interop.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

/** One run of a job by a worker, as the worker saw it. */
interface Run {
  readonly handle: string;
  /** The node whose worker ran it. */
  readonly node: number;
  readonly start: number;
  end: number;
  readonly payload: Buffer;
}

/** What was submitted under an acknowledged handle. */
interface Submitted {
  readonly payloads: Buffer[];
  /** The earliest time it may start (ms, this machine's clock), or 0. */
  notBefore: number;
}

const KEEP = ['--job-policy', 'load keep-completed=all', '--job-policy', 'late keep-completed=all'];

describeWithPostgres('a cluster of geartrain serve nodes on PostgreSQL', () => {
  let db: PostgresServer;
  /** Every node process started, stopped by PID after each test. */
  const started: ServedCommand[] = [];
  const clients: GearmanClient[] = [];
  const workers: GearmanWorker[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const worker of workers.splice(0)) await worker.close({ timeout: 0 });
    for (const node of started.splice(0)) await node.stop('SIGKILL');
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  async function node(port = 0, args: string[] = KEEP): Promise<ServedCommand> {
    const served = await startNode(db, port, args);
    started.push(served);
    return served;
  }

  function clientOf(port: number): GearmanClient {
    const client = createClient({
      servers: [`127.0.0.1:${port}`],
      connectTimeout: 1000,
      requestTimeout: 5000,
      maxReconnectDelay: 200,
    });
    clients.push(client);
    return client;
  }

  function workerOf(port: number): GearmanWorker {
    const worker = createWorker({
      servers: [`127.0.0.1:${port}`],
      connectTimeout: 1000,
      reconnectDelay: 50,
      maxReconnectDelay: 200,
    });
    workers.push(worker);
    return worker;
  }

  it('loses no acknowledged job under SIGKILLs, starts none early, runs one twice only if its node was killed, and answers for every job on every node', async () => {
    await db.psql('drop schema if exists geartrain cascade');
    const ports = [await freePort(), await freePort(), await freePort()];
    const live: (ServedCommand | null)[] = [];
    for (const port of ports) live.push(await node(port));
    const runs: Run[] = [];
    for (const [k, port] of ports.entries()) {
      workerOf(port).register(
        'load',
        async (job) => {
          const run: Run = {
            handle: job.handle,
            node: k,
            start: Date.now(),
            end: 0,
            payload: Buffer.from(job.payload),
          };
          runs.push(run);
          // A pair's job runs long enough for its twin, sent to another node at the same
          // time, to find it live.
          await pause(job.unique.startsWith('pair-') ? 150 : 5 + randomInt(30));
          run.end = Date.now();
          return 'ok';
        },
        { concurrency: 4 },
      );
    }
    const submitters = ports.map(clientOf);

    // Jobs no worker can do yet, with unique ids, submitted to every node: after every
    // kill, each node answers for each of them, by handle and by unique id.
    const late: { handle: string; unique: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const unique = `late-${i}`;
      const job = await submitters[i % 3]!.submit('late', `late ${i}`, {
        background: true,
        unique,
      });
      late.push({ handle: job.handle, unique });
    }
    const answersEverywhere = async (known: boolean) => {
      for (const [k, port] of ports.entries()) {
        if (live[k] === null) continue;
        const asker = clientOf(port);
        for (const { handle, unique } of late) {
          expect((await asker.status(handle)).known, `${handle} on node ${k}`).toBe(known);
          expect((await asker.statusByUnique(unique)).known, `${unique} on node ${k}`).toBe(known);
        }
        asker.close();
      }
    };
    await answersEverywhere(true);

    const acknowledged = new Map<string, Submitted>();
    const pairs: [string | null, string | null][] = [];
    let refused = 0;
    let serial = 0;
    const accept = (handle: string, payload: Buffer, notBefore: number) => {
      const known = acknowledged.get(handle);
      if (known === undefined) acknowledged.set(handle, { payloads: [payload], notBefore });
      else {
        known.payloads.push(payload);
        known.notBefore = Math.min(known.notBefore, notBefore);
      }
    };
    /** One round: ten jobs per live node (priorities, delays, binary payloads) and a pair. */
    const round = async () => {
      const pending: Promise<unknown>[] = [];
      for (const [k, client] of submitters.entries()) {
        if (live[k] === null) continue;
        for (let j = 0; j < 10; j++) {
          const id = serial++;
          // Binary, with NUL bytes: the id, then random bytes.
          const payload = Buffer.concat([Buffer.from(`${id}\0`), randomBytes(24)]);
          const priority = (['high', 'normal', 'low'] as Priority[])[randomInt(3)]!;
          const delay = j % 4 === 0 ? 100 + randomInt(900) : 0;
          const sent = Date.now();
          pending.push(
            client
              .submit('load', payload, {
                background: true,
                priority,
                ...(delay > 0 ? { delay } : {}),
              })
              .then(
                (job) => accept(job.handle, payload, delay > 0 ? sent + delay : 0),
                () => refused++,
              ),
          );
        }
      }
      // The same unique id submitted to two nodes at once: one job.
      const [a, b] = [randomInt(3), randomInt(3)];
      if (live[a] !== null && live[b] !== null && a !== b) {
        const unique = `pair-${serial++}`;
        const pair: [string | null, string | null] = [null, null];
        pairs.push(pair);
        const payloads = [a, b].map((k) => Buffer.from(`${unique} from node ${k}`));
        for (const [side, k] of [a, b].entries()) {
          pending.push(
            submitters[k]!.submit('load', payloads[side], { background: true, unique }).then(
              (job) => {
                pair[side] = job.handle;
                // Coalesced, it runs with the payload of whichever insert came first, even
                // one whose acknowledgement was lost with its node.
                for (const payload of payloads) accept(job.handle, payload, 0);
              },
              () => refused++,
            ),
          );
        }
      }
      await Promise.all(pending);
    };

    /** Each SIGKILL: when it was sent, and when the process was seen gone. */
    const kills: { node: number; at: number; gone: number }[] = [];
    for (let cycle = 0; cycle < 10; cycle++) {
      await round();
      await pause(100);
      // The kill comes while a round's submissions are in flight.
      const inFlight = round();
      await pause(randomInt(30));
      const k = randomInt(3);
      const victim = live[k]!;
      live[k] = null;
      const at = Date.now();
      await victim.stop('SIGKILL');
      kills.push({ node: k, at, gone: Date.now() });
      await inFlight;
      await round();
      live[k] = await node(ports[k]);
      await answersEverywhere(true);
    }
    await round();

    // Every acknowledged job completes, once the load stops.
    const completed = async () =>
      new Set(
        (
          await db.psql(
            "select id from geartrain.outcomes where function_name = 'load' and state = 'completed'",
          )
        ).split('\n'),
      );
    const idOf = (handle: string) => handle.slice(handle.lastIndexOf(':') + 1);
    let done = new Set<string>();
    await until(
      async () => {
        done = await completed();
        return [...acknowledged.keys()].every((handle) => done.has(idOf(handle)));
      },
      () =>
        `every acknowledged job to complete (${[...acknowledged.keys()].filter((h) => !done.has(idOf(h))).length} of ${acknowledged.size} left)`,
      60_000,
    );

    const byHandle = new Map<string, Run[]>();
    for (const run of runs) byHandle.set(run.handle, [...(byHandle.get(run.handle) ?? []), run]);
    let twice = 0;
    for (const [handle, submitted] of acknowledged) {
      const ran = byHandle.get(handle) ?? [];
      expect(ran.length, `${handle} ran`).toBeGreaterThanOrEqual(1);
      for (const run of ran) {
        // Its payload, byte for byte; never before its time.
        expect(
          submitted.payloads.some((p) => p.equals(run.payload)),
          `${handle} ran with a payload submitted under it: ran ` +
            `${JSON.stringify(run.payload.toString('latin1'))} on node ${run.node}, submitted ` +
            `${JSON.stringify(submitted.payloads.map((p) => p.toString('latin1')))}`,
        ).toBe(true);
        expect(run.start, `${handle} started early`).toBeGreaterThanOrEqual(submitted.notBefore);
      }
      // Every run but the last was on a node killed while it ran (or just after it ended,
      // before its completion was written): it started before the process was gone.
      for (const run of ran.slice(0, -1)) {
        twice++;
        const killed = kills.some(
          (kill) =>
            kill.node === run.node &&
            kill.gone > run.start &&
            (run.end === 0 || run.end > kill.at - 1000),
        );
        expect(
          killed,
          `${handle} ran again, but its node ${run.node} was not killed: runs ` +
            `${JSON.stringify(ran.map(({ node, start, end }) => ({ node, start, end })))}, kills ` +
            `${JSON.stringify(kills)}`,
        ).toBe(true);
      }
    }
    // Each pair's two submissions, both acknowledged, got the one handle.
    const coalesced = pairs.filter(([a, b]) => a !== null && b !== null);
    for (const [a, b] of coalesced) expect(a).toBe(b);

    // The late jobs run now, and every node says they ended.
    workerOf(ports[0]!).register('late', () => 'late');
    await until(async () => {
      const left = await db.psql(
        "select count(*) from geartrain.jobs where function_name = 'late'",
      );
      return left === '0';
    }, 'the late jobs to run');
    await answersEverywhere(false);
    console.log(
      `cluster crash: ${kills.length} SIGKILLs, ${acknowledged.size} jobs acknowledged and ` +
        `completed, ${refused} refused while a node was down, ${twice} runs repeated after ` +
        `a kill, ${coalesced.length} pairs coalesced across nodes`,
    );
  }, 180_000);
});
