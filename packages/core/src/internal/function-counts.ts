/**
 * What happened to a function's jobs since its entry was made, for metrics read at scrape
 * time: plain counts bumped where the engine already is, so that nobody has to subscribe to
 * every job's events to count them (an event per job costs more than the job).
 */
export class FunctionCounts {
  submitted = 0;
  coalesced = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  /** Failed attempts retried under a retry policy. */
  retried = 0;
  /** Jobs queued again after their worker was lost. */
  requeued = 0;
}
