// The seed's PHP flow on a cluster, as a new user would try it (issue 31, "Done when"):
// doBackground sent to node A, a PHP worker on node B, and jobStatus polled on node C. The
// status shows the job queued, then running with its progress, then done.
import { createWorker } from '@geartrain/client';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNode } from './support/cluster.js';
import type { ServedCommand } from './support/command.js';
import { background, describeWithTools, run } from './support/interop.js';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

const dir = fileURLToPath(new URL('./interop/', import.meta.url));

/** One admin command's whole reply (up to its closing `.` line). */
async function admin(port: number, line: string): Promise<string> {
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to "${line}"`)), 5000);
      let text = '';
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.endsWith('\n.\n') || text === '.\n') {
          clearTimeout(timer);
          resolve(text);
        }
      });
      socket.once('error', reject);
      socket.write(`${line}\n`);
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Three `serve` nodes on a throwaway PostgreSQL, for the describe block it is called in:
 * started before its cases, stopped by PID after them.
 */
function threeNodes(): ServedCommand[] {
  let db: PostgresServer | undefined;
  const nodes: ServedCommand[] = [];
  beforeAll(async () => {
    db = await startPostgres();
    for (let i = 0; i < 3; i++) nodes.push(await startNode(db));
  }, 60_000);
  afterAll(async () => {
    for (const node of nodes) await node.stop('SIGKILL');
    await db?.stop();
  }, 60_000);
  return nodes;
}

describeWithPostgres('PHP on a cluster of geartrain serve nodes', () => {
  describeWithTools(['php'], 'PHP client and worker on three nodes', () => {
    const nodes = threeNodes();

    it('doBackground on node A, a PHP worker on node B, jobStatus polled on node C: progress, then done', async () => {
      const [a, b, c] = nodes as [ServedCommand, ServedCommand, ServedCommand];
      const worker = background('php', ['worker.php', String(b.port), '1'], dir);
      try {
        const result = await run('php', ['cluster-client.php', String(a.port), String(c.port)], {
          cwd: dir,
          timeout: 30_000,
        });
        if (result.code !== 0) throw new Error(`php failed: ${result.stderr}`);
        const out = JSON.parse(result.stdout.toString()) as {
          created: boolean;
          statuses: [boolean, boolean, number, number][];
        };
        console.log(`statuses seen on C: ${JSON.stringify(out.statuses)}`);
        expect(out.created).toBe(true);
        const statuses = out.statuses;
        expect(statuses.at(-1), 'done: unknown at last').toEqual([false, false, 0, 0]);
        const live = statuses.slice(0, -1);
        expect(live.every(([known]) => known)).toBe(true);
        const firstRunning = live.findIndex(([, isRunning]) => isRunning);
        expect(firstRunning, 'seen running').toBeGreaterThanOrEqual(0);
        const running = live.slice(firstRunning);
        expect(running.every(([, isRunning, , d]) => isRunning && [0, 3].includes(d))).toBe(true);
        const numerators = running.map(([, , n]) => n);
        expect(numerators).toEqual([...numerators].sort((x, y) => x - y));
        expect(Math.max(...numerators), 'progress shown').toBeGreaterThanOrEqual(1);
        // The worker did its one job and left.
        await worker.exited;
      } finally {
        await worker.stop();
      }
    });

    it('doNormal and tasks on node A get status updates, data and a 1 MiB result from a PHP worker on node B', async () => {
      const [a, b] = nodes as [ServedCommand, ServedCommand, ServedCommand];
      const worker = background('php', ['worker.php', String(b.port), '4'], dir);
      try {
        const result = await run('php', ['client.php', String(a.port), 'normal-updates'], {
          cwd: dir,
          timeout: 30_000,
        });
        if (result.code !== 0) throw new Error(`php failed: ${result.stderr}`);
        const out = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
        // As gearmand answers the same script (checked against gearmand --threads=1).
        expect(out).toEqual({
          tasks: {
            progress: [
              ['status', 1, 3],
              ['status', 2, 3],
              ['status', 3, 3],
              ['complete', 'encoded'],
            ],
            chunks: [
              ['data', 'a'],
              ['data', 'b'],
              ['warning', 'careful'],
              ['status', 1, 2],
              ['complete', 'c'],
            ],
          },
          chunks: 'abc',
          large: true,
        });
        await worker.exited;
      } finally {
        await worker.stop();
      }
    });
  });

  describeWithTools(['gearman', 'gearadmin'], 'gearadmin on three nodes', () => {
    const nodes = threeNodes();

    it('gearadmin --status shows the same queue counts on every node', async () => {
      const [a, b, c] = nodes as [ServedCommand, ServedCommand, ServedCommand];
      // Jobs submitted on different nodes, of functions no worker does.
      for (const [node, fn, count] of [
        [a, 'resize', 3],
        [b, 'resize', 2],
        [c, 'mail', 4],
      ] as const) {
        // One background job per line of input (`-n`).
        const submitted = await run('gearman', ['-p', String(node.port), '-b', '-n', '-f', fn], {
          input: Array.from({ length: count }, (_, i) => `${fn} ${i}\n`).join(''),
          timeout: 10_000,
        });
        if (submitted.code !== 0) throw new Error(`gearman failed: ${submitted.stderr}`);
      }
      const outputs: string[] = [];
      for (const node of nodes) {
        const status = await run('gearadmin', ['-p', String(node.port), '--status'], {
          timeout: 10_000,
        });
        outputs.push(status.stdout.toString());
      }
      const rows = (text: string) =>
        text
          .split('\n')
          .filter((line) => line !== '' && line !== '.')
          .sort();
      console.log(`gearadmin --status:\n${outputs[0]}`);
      expect(rows(outputs[0]!)).toEqual(['mail\t4\t0\t0', 'resize\t5\t0\t0']);
      expect(rows(outputs[1]!)).toEqual(rows(outputs[0]!));
      expect(rows(outputs[2]!)).toEqual(rows(outputs[0]!));
    });

    it('gearadmin --workers marks each connection with its node; show nodes lists the three from any', async () => {
      const [a, , c] = nodes as [ServedCommand, ServedCommand, ServedCommand];
      const worker = createWorker({ servers: [`127.0.0.1:${a.port}`] });
      try {
        worker.register('thumbnail', () => 'ok');
        let listed = '';
        for (let i = 0; i < 100 && !listed.includes('thumbnail'); i++) {
          listed = (await run('gearadmin', ['-p', String(a.port), '--workers'])).stdout.toString();
        }
        const line = listed.split('\n').find((l) => l.includes('thumbnail'))!;
        // FD ADDRESS CLIENT-ID@NODE : FUNCTIONS, gearmand's fields kept.
        expect(line).toMatch(/^\d+ \S+ \S+@\S+ : thumbnail$/);
        const fromC = await admin(c.port, 'show nodes');
        const lines = fromC.split('\n').filter((l) => l !== '' && l !== '.');
        expect(lines).toHaveLength(3);
        expect(lines.filter((l) => l.endsWith('\tself'))).toHaveLength(1);
        for (const l of lines)
          expect(l).toMatch(/^[0-9a-f-]{36}\t\S+\tstarted=\S+\theartbeat=\d+ms/);
      } finally {
        await worker.close({ timeout: 0 });
      }
    });
  });
});
