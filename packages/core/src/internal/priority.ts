import type { Priority } from '../types.js';
import { checkPriority } from './checks.js';

/**
 * Priorities as queue indexes: 0 high, 1 normal, 2 low. The index is written as its number
 * below: a module constant would be a variable read on every submission (see `Bits` in job.ts).
 */
export type PriorityIndex = 0 | 1 | 2;
export const PRIORITY_NAMES: readonly Priority[] = ['high', 'normal', 'low'];

/**
 * A priority's queue index. Anything else is refused: without a default case a JavaScript
 * caller's `'urgent'` fell through to `undefined`, which queued as HIGH.
 * @throws InvalidArgumentError
 */
export function priorityIndex(priority: Priority | undefined): PriorityIndex {
  switch (priority) {
    case undefined:
    case 'normal':
      return 1;
    case 'high':
      return 0;
    case 'low':
      return 2;
    default:
      checkPriority(priority);
      return 1; // not reached: checkPriority threw
  }
}
