const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;

interface Page<T> {
  readonly slots: (T | undefined)[];
  count: number;
}

/**
 * Things with a sequence number (live jobs, kept outcomes) by that number. Numbers mostly
 * grow, so they are kept in pages of 1024 slots: adding and removing one is an array store,
 * and the hash map of pages changes once per 1024. (A Map keyed by handle would hash and
 * grow and shrink its table on every item.) The newest page is kept even when empty.
 */
export class SeqIndex<T extends { readonly seq: number }> {
  private readonly pages = new Map<number, Page<T>>();
  private newest = -1;
  size = 0;

  get(seq: number): T | undefined {
    return this.pages.get(seq >>> PAGE_BITS)?.slots[seq & (PAGE_SIZE - 1)];
  }

  set(item: T): void {
    const number = item.seq >>> PAGE_BITS;
    let page = this.pages.get(number);
    if (page === undefined) {
      page = { slots: new Array<T | undefined>(PAGE_SIZE).fill(undefined), count: 0 };
      this.pages.set(number, page);
      if (number > this.newest) {
        const previous = this.pages.get(this.newest);
        if (previous !== undefined && previous.count === 0) this.pages.delete(this.newest);
        this.newest = number;
      }
    }
    page.slots[item.seq & (PAGE_SIZE - 1)] = item;
    page.count++;
    this.size++;
  }

  delete(item: T): void {
    const number = item.seq >>> PAGE_BITS;
    const page = this.pages.get(number);
    if (page === undefined || page.slots[item.seq & (PAGE_SIZE - 1)] !== item) return;
    page.slots[item.seq & (PAGE_SIZE - 1)] = undefined;
    page.count--;
    this.size--;
    if (page.count === 0 && number !== this.newest) this.pages.delete(number);
  }

  *values(): IterableIterator<T> {
    const numbers = [...this.pages.keys()].sort((a, b) => a - b);
    for (const number of numbers) {
      for (const item of this.pages.get(number)!.slots) if (item !== undefined) yield item;
    }
  }
}
