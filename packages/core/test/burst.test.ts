import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import type { BurstPeak, JobServer } from '../src/index.js';
import { releaseHeap } from '../src/internal/heap.js';
import type { Connection } from '../src/transport.js';
import { describeLocalOnly, server, submit, virtualClock } from './helpers.js';

/**
 * Memory given back after a burst (decision 28), on virtual time: when `releaseMemory` is
 * called, with what, and when not. The default release itself (a real collection) is
 * checked at the end.
 */

const PAYLOAD = '0123456789abcdef';

function setUp() {
  const clock = virtualClock();
  const released: { peak: BurstPeak; at: number }[] = [];
  const s = server({
    scheduler: clock.scheduler,
    releaseMemory: (peak) => released.push({ peak, at: clock.scheduler.now() }),
  });
  const client = s.connect({});
  const worker = s.connect({});
  worker.canDo('f');
  return { clock, released, s, client, worker };
}

function queue(client: Connection, count: number, payload: string | Buffer = PAYLOAD): void {
  for (let i = 0; i < count; i++) submit(client, { functionName: 'f', payload, background: true });
}

/** Grabs and completes up to `count` jobs; how many it did. */
function work(worker: Connection, count: number): number {
  let done = 0;
  for (; done < count; done++) {
    const job = worker.grab();
    if (job === undefined) break;
    worker.workComplete(job);
  }
  return done;
}

async function held(s: JobServer): Promise<number> {
  return (await s.functions()).reduce((sum, f) => sum + f.total, 0);
}

describeLocalOnly(
  "a shared queue's node keeps no burst of background jobs to give memory back for: they wait in the queue's backend",
  'memory after a burst',
  () => {
    it('is released once, a settle period after the jobs held fell to an eighth of the peak', async () => {
      const { clock, released, s, client, worker } = setUp();
      queue(client, 50_000);
      // Down to one eighth (6,250 left): the settle period starts now.
      expect(work(worker, 43_750)).toBe(43_750);
      clock.advanceTo(999);
      expect(released).toEqual([]);
      // The rest drains within the period, quietly enough (at most 1,000 changes per period
      // count as quiet; this is the drain's tail, 6,250 changes): looked at again later.
      work(worker, 6_250);
      expect(await held(s)).toBe(0);
      clock.advanceTo(1_000);
      expect(released).toEqual([]);
      clock.advanceTo(2_000);
      expect(released).toEqual([
        { peak: { jobs: 50_000, bytes: 50_000 * PAYLOAD.length }, at: 2_000 },
      ]);
      // Once: nothing more happens while the server stays idle.
      clock.advanceTo(60_000);
      expect(released).toHaveLength(1);
    });

    it('waits for a quiet period: a steady flow of more than 1,000 jobs a second keeps it off', () => {
      const { clock, released, client, worker } = setUp();
      queue(client, 50_000);
      work(worker, 50_000);
      for (let t = 500; t <= 5_000; t += 500) {
        queue(client, 600);
        work(worker, 600);
        clock.advanceTo(t);
      }
      expect(released).toEqual([]);
      // The flow stops: one period later, the burst's memory goes.
      clock.advanceTo(7_000);
      expect(released).toHaveLength(1);
    });

    it('is not released for fewer than 50,000 jobs of small payloads', () => {
      const { clock, released, client, worker } = setUp();
      queue(client, 49_999);
      work(worker, 49_999);
      clock.advanceTo(60_000);
      expect(released).toEqual([]);
    });

    it('counts payload bytes too: 32 MiB of large payloads make a burst', () => {
      const { clock, released, client, worker } = setUp();
      const mib = Buffer.alloc(1 << 20, 1);
      queue(client, 32, mib);
      work(worker, 32);
      clock.advanceTo(1_000);
      expect(released.map((r) => r.peak)).toEqual([{ jobs: 32, bytes: 32 << 20 }]);
    });

    it('waits while a new burst comes in before the first one settled, then measures both as one', async () => {
      const { clock, released, s, client, worker } = setUp();
      queue(client, 50_000);
      work(worker, 50_000);
      clock.advanceTo(500);
      // A second burst, larger: what is held is no longer an eighth of the peak.
      queue(client, 60_000);
      clock.advanceTo(5_000);
      expect(released).toEqual([]);
      work(worker, 60_000);
      expect(await held(s)).toBe(0);
      clock.advanceTo(6_000);
      expect(released).toEqual([]); // the drain of 60,000 is not a quiet period
      clock.advanceTo(7_000);
      expect(released.map((r) => r.peak.jobs)).toEqual([60_000]);
    });

    it('is released again after a later burst, measured afresh', () => {
      const { clock, released, client, worker } = setUp();
      queue(client, 50_000);
      work(worker, 50_000);
      clock.advanceTo(2_000);
      queue(client, 50_000);
      work(worker, 50_000);
      clock.advanceTo(4_000);
      expect(released.map((r) => r.at)).toEqual([2_000, 4_000]);
    });

    it('is never released with releaseMemory: false, nor once the server closed', async () => {
      const clock = virtualClock();
      const off = server({ scheduler: clock.scheduler, releaseMemory: false });
      const released = vi.fn();
      const closing = server({ scheduler: clock.scheduler, releaseMemory: released });
      for (const s of [off, closing]) {
        const client = s.connect({});
        const worker = s.connect({});
        worker.canDo('f');
        queue(client, 50_000);
        work(worker, 50_000);
      }
      const closed = closing.close({ timeout: 0 });
      clock.advanceTo(10_000);
      await closed;
      expect(released).not.toHaveBeenCalled();
      await off.close({ timeout: 0 });
    });
  },
);

describe('the default release', () => {
  it('runs a full collection: an object nothing refers to is gone when it is logged', async () => {
    let observer: PerformanceObserver | undefined;
    const major = new Promise<void>((resolve) => {
      observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) resolve();
        }
      });
      observer.observe({ entryTypes: ['gc'] });
    });
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ garbage: new Array(1_000).fill('x') });
    })();
    const info = vi.fn();
    const logged = new Promise<void>((resolve) => info.mockImplementation(() => resolve()));
    releaseHeap({ info, warn: vi.fn(), error: vi.fn() });
    await logged;
    expect(info.mock.calls[0]![1]).toMatch(/^heap collected: \d+ → \d+ MiB used of/);
    expect(ref.deref()).toBeUndefined();
    // The observer hears of collections some ticks after them; the test's timeout bounds it.
    await major;
    observer!.disconnect();
  });
});
