import type { JobListener } from '../transport-types.js';
import type { JobUpdate } from '../types.js';

/**
 * Hands an update to a listener, as every transport must: an exception becomes a plain
 * failure (reason `EXCEPTION`) for a listener that did not ask for exceptions (§3.7).
 */
export function deliver(listener: JobListener, handle: string, update: JobUpdate): void {
  if (update.type === 'exception' && !listener.exceptions) {
    listener.update(handle, { type: 'fail', reason: 'EXCEPTION' });
  } else listener.update(handle, update);
}
