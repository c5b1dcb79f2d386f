import type { JobServer, LatencyHistogram } from '@geartrain/core';
import type { ServerResponse } from 'node:http';
import { takeSnapshot, type DashboardSnapshot, type SnapshotLimits } from './snapshot.js';

/** One point of the throughput history: what happened during one interval. */
export interface RatePoint {
  /** The end of the interval (the server's clock, ms). */
  readonly time: number;
  readonly submitted: number;
  readonly completed: number;
  readonly failed: number;
  /** Wait and run times of the attempts that started / ended in the interval (all functions). */
  readonly wait: IntervalLatency;
  readonly run: IntervalLatency;
}

/** Latency over one interval, in seconds; null values when nothing was measured. */
export interface IntervalLatency {
  readonly count: number;
  readonly mean: number | null;
  /** The upper bound of the bucket holding the 95th percentile; null (JSON has no Infinity)
   * when it is past the top bound, 300 s. */
  readonly p95: number | null;
}

/** The server's histograms added over every function: the totals a history point differs. */
interface Totals {
  readonly counts: number[];
  readonly sum: number;
  readonly count: number;
}

function total(histograms: readonly LatencyHistogram[]): Totals {
  const counts: number[] = [];
  let sum = 0;
  let count = 0;
  for (const h of histograms) {
    h.counts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
    sum += h.sum;
    count += h.count;
  }
  return { counts, sum, count };
}

/** The latency of what was measured between two totals (same bounds everywhere). */
function between(before: Totals, after: Totals, bounds: readonly number[]): IntervalLatency {
  const count = after.count - before.count;
  if (count <= 0) return { count: 0, mean: null, p95: null };
  const rank = Math.ceil(count * 0.95);
  let seen = 0;
  let p95: number | null = null;
  for (let i = 0; i < after.counts.length; i++) {
    seen += (after.counts[i] ?? 0) - (before.counts[i] ?? 0);
    if (seen >= rank) {
      p95 = bounds[i] ?? null;
      break;
    }
  }
  return { count, mean: (after.sum - before.sum) / count, p95 };
}

/** What each server-sent event carries. */
export interface LiveUpdate {
  readonly snapshot: DashboardSnapshot;
  /** The last `HISTORY` intervals, oldest first. */
  readonly history: readonly RatePoint[];
}

/** Intervals of throughput history kept (two minutes at one a second). */
export const HISTORY = 120;

/**
 * The page's live feed over server-sent events: while at least one page listens, one
 * snapshot is taken per interval and written to every listener, so the cost is one
 * snapshot a second whatever the number of pages or jobs, and nothing at all while nobody
 * looks. The throughput history comes from the differences of the server's counts between
 * two snapshots (no event per job). One snapshot is taken at a time (a shared queue answers
 * after a round trip): an interval that comes while one is under way is skipped.
 */
export class LiveFeed {
  /** Each listener, and whether it has had its first update (which carries `retry:`). */
  private readonly listeners = new Map<ServerResponse, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private readonly history: RatePoint[] = [];
  /** While a snapshot is taken. */
  private busy = false;
  private last: {
    submitted: number;
    completed: number;
    failed: number;
    wait: Totals;
    run: Totals;
  } | null = null;

  constructor(
    private readonly server: JobServer,
    private readonly interval: number,
    private readonly limits: SnapshotLimits | undefined,
  ) {}

  /** Streams updates to `res` until it closes; the first one as soon as it is taken. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    this.listeners.set(res, false);
    res.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
    // A snapshot under way is sent to it too when it is taken.
    this.tick();
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.interval);
      this.timer.unref();
    }
  }

  private tick(): void {
    if (this.busy) return;
    this.busy = true;
    this.update().then(
      (update) => {
        this.busy = false;
        const text = message(update);
        for (const [res, started] of this.listeners) {
          res.write(started ? text : `retry: ${this.interval}\n${text}`);
          this.listeners.set(res, true);
        }
      },
      // The server could not answer (a shared queue out of reach): the next interval tries
      // again, and the page keeps what it shows.
      () => (this.busy = false),
    );
  }

  private async update(): Promise<LiveUpdate> {
    const [snapshot, functions] = await Promise.all([
      takeSnapshot(this.server, this.limits),
      this.server.functions(),
    ]);
    const now = { submitted: 0, completed: 0, failed: 0 };
    for (const f of functions) {
      now.submitted += f.counts.submitted;
      now.completed += f.counts.completed;
      now.failed += f.counts.failed;
    }
    const timings = this.server.timings();
    const bounds = timings[0]?.wait.bounds ?? [];
    const wait = total(timings.map((t) => t.wait));
    const run = total(timings.map((t) => t.run));
    const last = this.last;
    if (last !== null) {
      // A dropped function takes its counts with it: a difference is never below 0.
      this.history.push({
        time: snapshot.time,
        submitted: Math.max(0, now.submitted - last.submitted),
        completed: Math.max(0, now.completed - last.completed),
        failed: Math.max(0, now.failed - last.failed),
        wait: between(last.wait, wait, bounds),
        run: between(last.run, run, bounds),
      });
      if (this.history.length > HISTORY) this.history.shift();
    }
    this.last = { ...now, wait, run };
    return { snapshot, history: this.history };
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ends every stream (the handler closes). */
  close(): void {
    this.stop();
    for (const res of this.listeners.keys()) res.end();
    this.listeners.clear();
  }
}

function message(update: LiveUpdate): string {
  return `event: update\ndata: ${JSON.stringify(update)}\n\n`;
}
