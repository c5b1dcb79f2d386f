import type { Retention as Keep } from '@geartrain/core';
import type { Connections } from './connections.js';
import type { Statements } from './statements.js';

/** Rows one pass deletes at most (the statement's LIMIT). */
export const RETENTION_BATCH = 1000;
/** How soon after this node kept an outcome the retention runs (ms). */
const AFTER_KEEPING = 10_000;
/** The longest wait between passes (ms): a policy changed elsewhere is seen by then. */
const AT_LEAST_EVERY = 3_600_000;
/** The wait before the next batch when a pass found a full one (ms). */
const NEXT_BATCH = 50;

/** What one pass did. */
export interface RetentionPass {
  /** Whether this node ran it (another node held the lock otherwise). */
  readonly ran: boolean;
  readonly deleted: number;
  /** ms until the oldest outcome under an age limit passes it; null when there is none. */
  readonly nextExpiry: number | null;
}

/**
 * Outcome retention (issue 31, item 2: never a storm of DELETEs): one statement deletes at
 * most {@link RETENTION_BATCH} outcomes past their function's count or age, by one node at a
 * time, and says when the next outcome expires. A node runs it shortly after it kept
 * outcomes, again at once while batches come back full, and otherwise only when the oldest
 * outcome expires (at least hourly): an idle cluster sends no retention query.
 */
export class OutcomeRetention {
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private keptSince = false;
  private stopped = false;

  constructor(
    private readonly db: () => Connections,
    private readonly st: Statements,
    private readonly schema: string,
    private readonly keep: Required<Keep>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The first pass runs at once (outcomes an earlier run left to expire), with the start. */
  start(): void {
    this.arm(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** This node kept outcomes: a pass runs soon. */
  kept(): void {
    if (this.keptSince) return;
    this.keptSince = true;
    this.arm(AFTER_KEEPING);
  }

  /** One pass, now. */
  async pass(): Promise<RetentionPass> {
    const keep = this.keep;
    const [row] = await this.db().query<{ got: boolean; deleted: number; next_ms: number | null }>(
      this.st.retention,
      [
        `geartrain:retention:${this.schema}`,
        keep.completed.count ?? null,
        keep.completed.age ?? null,
        keep.failed.count ?? null,
        keep.failed.age ?? null,
      ],
    );
    return { ran: row?.got ?? false, deleted: row?.deleted ?? 0, nextExpiry: row?.next_ms ?? null };
  }

  /** Arms the timer for `delay` ms from now, unless it is armed for sooner. */
  private arm(delay: number): void {
    if (this.stopped) return;
    const at = Date.now() + delay;
    if (this.timer !== null) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.timerAt = Infinity;
    this.keptSince = false;
    let next = AFTER_KEEPING;
    try {
      const pass = await this.pass();
      if (!pass.ran) next = AFTER_KEEPING;
      else if (pass.deleted >= RETENTION_BATCH) next = NEXT_BATCH;
      else if (pass.nextExpiry === null) next = AT_LEAST_EVERY;
      else next = Math.min(Math.max(pass.nextExpiry, AFTER_KEEPING), AT_LEAST_EVERY);
    } catch (error) {
      this.onError(error);
    }
    // Kept again during the pass: kept() armed the timer already, for sooner or equal.
    this.arm(next);
  }
}
