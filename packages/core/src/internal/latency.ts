import type { FunctionTimings, LatencyHistogram } from '../types.js';

/**
 * Upper bounds of the latency buckets, in seconds: 0.5 ms to 5 minutes, roughly ×2.5 apart
 * (Prometheus's own defaults stop at 10 s, too short for jobs). One set for every function,
 * so the histograms of two functions (or two servers) add up.
 */
export const LATENCY_BOUNDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
const BOUNDS_MS = LATENCY_BOUNDS.map((s) => s * 1000);

/**
 * One histogram kept by the engine: a count per bucket and the sum, bumped in place. An
 * observation is a scan from the smallest bucket, which is where most jobs land, so it
 * costs a few comparisons and no allocation.
 */
export class Latency {
  /** Observations per bucket; the last slot is over the top bound. */
  private readonly counts = new Float64Array(BOUNDS_MS.length + 1);
  private sumMs = 0;
  private count = 0;

  observe(ms: number): void {
    // A clock that went backwards (a virtual one set back) gives no negative time.
    const value = ms > 0 ? ms : 0;
    let i = 0;
    while (i < BOUNDS_MS.length && value > BOUNDS_MS[i]!) i++;
    this.counts[i]!++;
    this.sumMs += value;
    this.count++;
  }

  snapshot(): LatencyHistogram {
    return {
      bounds: LATENCY_BOUNDS,
      counts: Array.from(this.counts),
      sum: this.sumMs / 1000,
      count: this.count,
    };
  }
}

/** The two latencies the engine keeps per function, once timings are measured. */
export class FunctionLatencies {
  /** From the moment a job may run (submission, the end of its delay or back-off) to a start. */
  readonly wait = new Latency();
  /** From an attempt's start to its end, whatever the end. */
  readonly run = new Latency();

  snapshot(functionName: string): FunctionTimings {
    return { functionName, wait: this.wait.snapshot(), run: this.run.snapshot() };
  }
}
