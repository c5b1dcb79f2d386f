import type { RetryPolicy } from './retry.js';
import type { Priority } from './types.js';

// What a transport hands the server and gets back through a `Connection`.

/** A submission, as every transport hands it to the server. */
export interface SubmitRequest {
  readonly functionName: string;
  readonly payload?: Buffer | Uint8Array | string | null;
  /** Unique id: empty or absent never coalesces; `-` coalesces by payload (reference §3.2). */
  readonly unique?: string;
  readonly priority?: Priority;
  readonly background?: boolean;
  /** When a background job becomes runnable, in ms on the scheduler's clock. */
  readonly runAt?: number;
  readonly reducer?: string;
  /** The job's own retry policy (in process); else its function's (`setJobPolicy`). */
  readonly retry?: RetryPolicy;
}

export interface SubmitOutcome {
  readonly handle: string;
  /** True when the submission joined an existing job with the same unique id. */
  readonly coalesced: boolean;
}

/** A job as handed to a worker. */
export interface Assignment {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly payload: Buffer;
  readonly reducer: string;
  /** 1 for the first assignment, then one more per retry. */
  readonly attempt: number;
  /** The function's timeout for this connection in ms, 0 for none. */
  readonly timeout: number;
}
