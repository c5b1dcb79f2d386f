/** A worker that was sent a wake (NOOP) and has not answered it yet. */
export interface WokenNode<T> {
  /** When the wake was sent, ms on the scheduler's clock. */
  wokenAt: number;
  prevWoken: T | null;
  nextWoken: T | null;
}

/**
 * The outstanding wakes, oldest first. Every wake is given the same time to be answered,
 * so the list is in expiry order too and one timer for its head serves all of them. It is
 * intrusive (the links live on the worker) so a wake allocates nothing.
 */
export class WokenList<T extends WokenNode<T>> {
  head: T | null = null;
  private tail: T | null = null;

  push(node: T, now: number): void {
    node.wokenAt = now;
    node.prevWoken = this.tail;
    node.nextWoken = null;
    if (this.tail === null) this.head = node;
    else this.tail.nextWoken = node;
    this.tail = node;
  }

  /** Unlinks a node; the caller knows it is in the list. */
  remove(node: T): void {
    if (node.prevWoken === null) this.head = node.nextWoken;
    else node.prevWoken.nextWoken = node.nextWoken;
    if (node.nextWoken === null) this.tail = node.prevWoken;
    else node.nextWoken.prevWoken = node.prevWoken;
    node.prevWoken = node.nextWoken = null;
  }
}
