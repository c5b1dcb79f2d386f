/** How long a window of ends is (ms) before the pace is taken from it. */
const WINDOW = 100;
/** The work a node holds ahead of its workers: what they finish in this long (ms). */
const HORIZON = 50;
/** The most a node holds ahead for one function, whatever its pace. */
const MOST_AHEAD = 1000;

/**
 * The pace at which one function's claimed jobs end on this node, and so how many it
 * claims ahead of its workers' room. A worker that takes one job at a time (over TCP) would
 * otherwise wait for a claim's round trip between jobs: 4 libgearman workers did 400 to
 * 2,200 jobs a second in issue 31's cluster bench. What a node holds ahead is what its
 * workers do in `HORIZON` ms at their last window's pace, rounded down: a slow function
 * (fewer than one end in `HORIZON` ms: the common case, and any test's) holds nothing
 * ahead, and no job waits on one node for more than about that long while another node's
 * workers idle.
 */
export class ClaimPace {
  private windowStart = Number.NEGATIVE_INFINITY;
  private ends = 0;
  /** Ends a ms in the last whole window. */
  private rate = 0;

  /** One of the function's claimed jobs ended at `now`. */
  ended(now: number): void {
    const elapsed = now - this.windowStart;
    if (elapsed >= WINDOW) {
      // A window with a long gap after it counts its gap: an idle function slows down.
      this.rate = Number.isFinite(elapsed) ? this.ends / elapsed : 0;
      this.windowStart = now;
      this.ends = 0;
    }
    this.ends++;
  }

  /** How many jobs to hold beyond the workers' room at `now`. */
  ahead(now: number): number {
    // Nothing ended for two windows: the pace is stale.
    if (now - this.windowStart >= 2 * WINDOW) return 0;
    return Math.min(MOST_AHEAD, Math.floor(this.rate * HORIZON));
  }
}
