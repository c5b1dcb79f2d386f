import { createClient } from '@geartrain/client';
import { createJobServer } from '@geartrain/core';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWithTools, run, startGearmand } from './support/interop.js';

const cli = fileURLToPath(new URL('../packages/cli/bin/geartrain.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'geartrain-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWithTools(['gearmand'], 'geartrain import-gearmand', () => {
  it('moves the jobs a real gearmand kept in its libsqlite3 queue into a geartrain store', async () => {
    const queueFile = join(dir, 'gearmand-queue.sqlite');
    const gearmand = await startGearmand(['-q', 'libsqlite3', `--libsqlite3-db=${queueFile}`]);
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const client = createClient({ servers: [`127.0.0.1:${gearmand.port}`] });
    try {
      await client.submit('resize', Buffer.from([0x61, 0, 0x62]), {
        background: true,
        unique: 'img-1',
      });
      // gearmand's queue table is keyed by (unique, function): a second job of a function
      // without a unique id replaces the first in the file. So one job has none.
      await client.submit('resize', 'plain', { background: true });
      await client.submit('mail', 'low one', { background: true, priority: 'low', unique: 'm1' });
      await client.submit('mail', 'high one', { background: true, priority: 'high', unique: 'm2' });
      await client.submit('close-order', 'later', {
        background: true,
        runAt: inAnHour * 1000,
        unique: 'order-9',
      });
    } finally {
      client.close();
      // Killed, as a crash: the queue file holds what gearmand acknowledged.
      await gearmand.crash();
    }

    const store = join(dir, 'geartrain.sqlite');
    const first = await run(process.execPath, [
      cli,
      'import-gearmand',
      queueFile,
      '--store',
      store,
    ]);
    expect(first.stderr).toBe('');
    expect(first.stdout.toString()).toBe(`imported 5 jobs from ${queueFile} into ${store}\n`);
    const again = await run(process.execPath, [
      cli,
      'import-gearmand',
      queueFile,
      '--store',
      store,
    ]);
    expect(again.stdout.toString()).toMatch(/^imported 0 jobs .* \(5 already there\)\n$/);

    const server = createJobServer({ store: SqliteJobStore.open(store) });
    try {
      const jobs = await server.jobs();
      expect(jobs.map((j) => [j.functionName, j.priority, j.state])).toEqual([
        ['resize', 'normal', 'queued'],
        ['resize', 'normal', 'queued'],
        ['mail', 'low', 'queued'],
        ['mail', 'high', 'queued'],
        ['close-order', 'normal', 'delayed'],
      ]);
      expect(jobs[0]!.unique).toBe('img-1');
      const seen: string[] = [];
      const worker = server.worker();
      for (const fn of ['resize', 'mail']) {
        worker.register(fn, (job) => void seen.push(`${fn}:${job.payload.toString('hex')}`));
      }
      for (let i = 0; i < 200 && seen.length < 4; i++) await new Promise(setImmediate);
      expect(seen.filter((s) => s.startsWith('mail:'))).toEqual([
        `mail:${Buffer.from('high one').toString('hex')}`,
        `mail:${Buffer.from('low one').toString('hex')}`,
      ]);
      expect(seen.filter((s) => s.startsWith('resize:'))).toEqual([
        'resize:610062',
        `resize:${Buffer.from('plain').toString('hex')}`,
      ]);
      const later = (await server.jobs()).find((j) => j.functionName === 'close-order')!;
      expect(later.state).toBe('delayed');
      expect(later.runAt).toBe(inAnHour * 1000);
    } finally {
      await server.close({ timeout: 0 });
    }
  });

  it('points a gearmand queue file given to serve at the import', async () => {
    const queueFile = join(dir, 'gearmand-only.sqlite');
    const gearmand = await startGearmand(['-q', 'libsqlite3', `--libsqlite3-db=${queueFile}`]);
    await gearmand.stop();
    const served = await run(process.execPath, [
      cli,
      'serve',
      '--port',
      '0',
      '-q',
      'libsqlite3',
      '--libsqlite3-db',
      queueFile,
    ]);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(/is a gearmand queue file.*geartrain import-gearmand/);
  });
});
