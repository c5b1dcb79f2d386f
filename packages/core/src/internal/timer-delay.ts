/**
 * The longest delay a timer takes: Node turns a longer one into 1 ms (with a warning), so a
 * timer due later is armed for this long and armed again when it fires early.
 */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * The delay to arm a timer with for `at`, seen at `now`: never negative, never past what a
 * Node timer takes. Every timer of core that waits for a time (delayed jobs, schedules, rate
 * limits) goes through it; each re-arms itself when it fires before its time.
 */
export function timerDelay(at: number, now: number): number {
  return Math.min(MAX_TIMER_DELAY, Math.max(0, at - now));
}
