import type { SchedulerLike } from 'rxjs';

/**
 * Resolves once `done` has, or at `timeout` ms on `scheduler`, whichever comes first; at the
 * deadline `onDeadline` runs first, inside the timer (a graceful close's "then abort").
 */
export function untilDeadline(
  done: Promise<unknown>,
  scheduler: SchedulerLike,
  timeout: number,
  onDeadline?: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const deadline = scheduler.schedule(() => {
      onDeadline?.();
      resolve();
    }, timeout);
    void done.then(() => {
      deadline.unsubscribe();
      resolve();
    });
  });
}
