/**
 * Promises that resolve when something runs out (no job running, no job held), with no
 * cost until someone waits: the list is made on the first wait.
 */
export class Waiters {
  private list: (() => void)[] | null = null;

  /** A promise that `release()` resolves. */
  wait(): Promise<void> {
    return new Promise((resolve) => (this.list ??= []).push(resolve));
  }

  release(): void {
    const list = this.list;
    if (list === null) return;
    this.list = null;
    for (const resolve of list) resolve();
  }
}
