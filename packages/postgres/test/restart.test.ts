// PostgreSQL restarted under load: submissions made while it is down are refused (never
// acknowledged), the nodes reconnect on their own, and every acknowledged job completes.
import type { JobServer } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  backendOf,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  until,
  type PostgresServer,
} from './support.js';

describeWithPostgres('@geartrain/postgres when the database restarts', () => {
  let db: PostgresServer;
  const servers: JobServer[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.close({ timeout: 0 }).catch(() => undefined);
    await db?.stop();
  }, 60_000);

  it('loses no acknowledged job when PostgreSQL restarts under load', async () => {
    const schema = freshSchema('restart');
    const a = nodeOn(db, schema, { nodeName: 'A' });
    const b = nodeOn(db, schema, { nodeName: 'B' });
    servers.push(a, b);
    await Promise.all([a.ready, b.ready]);
    const done = new Set<string>();
    for (const server of [a, b]) {
      server.worker().register(
        'load',
        (job) => {
          done.add(job.handle);
          return 'ok';
        },
        { concurrency: 8 },
      );
    }
    const acknowledged = new Set<string>();
    const refused: unknown[] = [];
    let restarted = false;
    const started = Date.now();
    const client = a.client();
    const load = (async () => {
      let n = 0;
      while (Date.now() - started < 4000 || !restarted) {
        if (Date.now() - started > 30_000) throw new Error('the restart never ended');
        const batch = Array.from({ length: 10 }, () =>
          client.submit('load', `job-${n++}`, { background: true, unique: `u-${n}` }).then(
            (job) => acknowledged.add(job.handle),
            (error: unknown) => refused.push(error),
          ),
        );
        await Promise.all(batch);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await until(() => acknowledged.size >= 200, 'some load before the restart');
    await db.restart();
    restarted = true;
    await load;
    await until(
      () => [...acknowledged].every((handle) => done.has(handle)),
      () =>
        `every acknowledged job to complete (${[...acknowledged].filter((h) => !done.has(h)).length} of ${acknowledged.size} left)`,
      30_000,
    );
    console.log(
      `restart: ${acknowledged.size} acknowledged, all completed; ${refused.length} refused ` +
        `while the database was down; reports repeated after an unknown commit: ` +
        `${backendOf(a).queue.stats.repeated + backendOf(b).queue.stats.repeated}`,
    );
    for (const error of refused) expect(error).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    // Nothing is left in the hot table: every acknowledged job ended.
    await until(
      async () => (await db.psql(`select count(*) from ${schema}.jobs`)) === '0',
      'the hot table to empty',
    );
  });
});
