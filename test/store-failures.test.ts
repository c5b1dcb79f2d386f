// A store that fails while the server runs: over TCP, a submission the store cannot take is
// answered with ERROR QUEUE_ERROR, other connections go on, nothing acknowledged is lost,
// and the server takes jobs again once the store can.
import { createClient, createWorker, ServerError } from '@geartrain/client';
import { createJobServer } from '@geartrain/core';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { serve } from '@geartrain/tcp';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-store-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a full store over TCP', () => {
  it('answers QUEUE_ERROR, keeps every acknowledged job, and recovers once jobs drain', async () => {
    const path = join(dir, 'full.sqlite');
    const jobServer = createJobServer({
      store: SqliteJobStore.open(path, { maxBytes: 256 * 1024 }),
    });
    const tcp = await serve(jobServer, { host: '127.0.0.1', port: 0 });
    const servers = [`127.0.0.1:${tcp.address!.port}`];
    const client = createClient({ servers });
    const bystander = createClient({ servers });
    try {
      const payload = Buffer.alloc(3000, 7);
      const acknowledged: string[] = [];
      let refusal: unknown;
      for (let i = 0; i < 500 && refusal === undefined; i++) {
        try {
          acknowledged.push((await client.submit('fill', payload, { background: true })).handle);
        } catch (error) {
          refusal = error;
        }
      }
      expect(refusal).toBeInstanceOf(ServerError);
      expect((refusal as ServerError).serverCode).toBe('QUEUE_ERROR');
      expect(acknowledged.length).toBeGreaterThan(10);
      // The connection that was refused and another one both still work.
      expect((await bystander.status(acknowledged[0]!)).known).toBe(true);
      expect((await client.status(acknowledged.at(-1)!)).known).toBe(true);

      // A worker drains the queue: every acknowledged job runs once, and there is room again.
      const ran: string[] = [];
      let drained!: () => void;
      const all = new Promise<void>((resolve) => (drained = resolve));
      const worker = createWorker({ servers });
      worker.register('fill', (job) => {
        ran.push(job.handle);
        if (ran.length === acknowledged.length) drained();
      });
      await all;
      await worker.stop({ timeout: 1000 });
      expect(ran.sort()).toEqual([...acknowledged].sort());
      const again = await client.submit('fill', payload, { background: true });
      expect((await client.status(again.handle)).known).toBe(true);
    } finally {
      client.close();
      bystander.close();
      await jobServer.close({ timeout: 0 });
      await tcp.close({ timeout: 0 });
    }
  });
});
