// Issue 32, item 6: the held-snapshot drill. A steady 1,000 jobs a second through a node,
// while another client's transaction holds a snapshot open for 60 s (no row the queue
// changes meanwhile can be vacuumed: the classic way a PostgreSQL queue slows down): the jobs
// done in every 5 s of the hold stay within 30% of the rate before it, and within 60 s of the
// commit the rate is back. The bench measures the same (`CLUSTER_PARTS=snapshot`).
import type { JobServer } from '@geartrain/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  client,
  describeWithPostgres,
  freshSchema,
  nodeOn,
  startPostgres,
  until,
  type PostgresServer,
} from './support.js';

const RATE = 1000;
const BEFORE_S = 10;
const HELD_S = Number(process.env.GEARTRAIN_SNAPSHOT_HELD_S ?? 60);

describeWithPostgres('@geartrain/postgres under a held snapshot', () => {
  let db: PostgresServer;
  let server: JobServer | undefined;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.close({ timeout: 0 }).catch(() => undefined);
    await db?.stop();
  }, 60_000);

  it(`keeps ${RATE} jobs a second within 30% while a snapshot is held for ${HELD_S} s, and recovers within 60 s`, async () => {
    server = nodeOn(db, freshSchema('snapshot'));
    await server.ready;
    let done = 0;
    for (let i = 0; i < 8; i++) {
      server.worker().register(
        'steady',
        () => {
          done++;
          return undefined;
        },
        { concurrency: 32 },
      );
    }
    const submitter = server.client();
    const perSecond: number[] = [];
    let stop = false;
    // The load: a tenth of the rate every 100 ms, on the clock (a late tick goes at once).
    const load = (async () => {
      const start = Date.now();
      let tick = start;
      let sampled = start + 1000;
      let last = 0;
      while (!stop) {
        await Promise.all(
          Array.from({ length: RATE / 10 }, () =>
            submitter.submit('steady', 'x', { background: true }),
          ),
        );
        tick += 100;
        const now = Date.now();
        while (now >= sampled) {
          perSecond.push(done - last);
          last = done;
          sampled += 1000;
        }
        if (tick > now) await new Promise((resolve) => setTimeout(resolve, tick - now));
      }
    })();
    const holder = await client(db, 'snapshot-holder');
    try {
      await until(() => perSecond.length >= BEFORE_S, 'the rate before', 30_000);
      const baseline = perSecond.slice(2).reduce((a, b) => a + b, 0) / (perSecond.length - 2);
      await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await holder.query('SELECT count(*) FROM pg_class');
      const heldFrom = perSecond.length;
      await until(() => perSecond.length >= heldFrom + HELD_S, 'the hold', (HELD_S + 30) * 1000);
      await holder.query('COMMIT');
      const during = perSecond.slice(heldFrom, heldFrom + HELD_S);
      const windows: number[] = [];
      for (let i = 0; i + 5 <= during.length; i++) {
        windows.push(during.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5);
      }
      const worst = Math.min(...windows);
      // Recovered: a 5 s window after the commit at 95% of the rate before, within 60 s.
      const endedAt = perSecond.length;
      const recovered = () => {
        const after = perSecond.slice(endedAt);
        for (let i = 0; i + 5 <= after.length; i++) {
          if (after.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5 >= 0.95 * baseline) return true;
        }
        return false;
      };
      await until(recovered, 'the rate to come back after the commit', 65_000);
      console.log(
        `held snapshot: ${baseline.toFixed(0)} jobs/s before, worst 5 s during ` +
          `${worst.toFixed(0)} (${((worst / baseline) * 100).toFixed(0)}%), back ` +
          `${perSecond.length - endedAt} s after the commit`,
      );
      expect(baseline).toBeGreaterThanOrEqual(RATE * 0.9);
      expect(worst / baseline).toBeGreaterThanOrEqual(0.7);
    } finally {
      stop = true;
      await load;
      await holder.end();
    }
  }, 240_000);
});
