/** Pages of 1024 slots; a const enum, so that each use is a number in the built code (see job.ts). */
const enum PageSize {
  Bits = 10,
  Slots = 1 << Bits,
}

/** The slot of a seq in its page. */
export function slotOf(seq: number): number {
  return seq & (PageSize.Slots - 1);
}

/**
 * Pages of 1024 slots by sequence number. Numbers mostly grow, so adding and removing an
 * item is a store into a page, and the hash map of pages changes once per 1024. (A Map
 * keyed by handle would hash and grow and shrink its table on every item.) The newest page
 * is kept even when empty, so that a steady one-in-one-out flow does not make and drop it.
 */
export class SeqPages<P extends { count: number }> {
  private readonly pages = new Map<number, P>();
  private newest = -1;
  /**
   * The two pages used last, with their numbers: most uses hit the newest page (what is
   * added) or the oldest one (what is trimmed), and a flow that does both alternates.
   */
  private hotNumber = -1;
  private hot: P | undefined = undefined;
  private warmNumber = -1;
  private warm: P | undefined = undefined;
  /**
   * An emptied page, kept to be the next new one: a steady flow empties its oldest page as
   * it fills its newest, and making a page (two arrays of 1,024) cost 50 µs here.
   */
  private spare: P | undefined = undefined;

  constructor(private readonly newPage: (size: number) => P) {}

  /** The page that holds `seq`, if any. */
  of(seq: number): P | undefined {
    const number = seq >>> PageSize.Bits;
    if (number === this.hotNumber) return this.hot;
    if (number === this.warmNumber) return this.warm;
    const page = this.pages.get(number);
    if (page !== undefined) {
      this.warmNumber = this.hotNumber;
      this.warm = this.hot;
      this.hotNumber = number;
      this.hot = page;
    }
    return page;
  }

  /** The page that holds `seq`, made when missing. */
  for(seq: number): P {
    const number = seq >>> PageSize.Bits;
    let page = this.of(seq);
    if (page === undefined) {
      page = this.spare ?? this.newPage(PageSize.Slots);
      this.spare = undefined;
      this.pages.set(number, page);
      if (number > this.newest) {
        const previous = this.pages.get(this.newest);
        if (previous !== undefined && previous.count === 0) this.drop(this.newest);
        this.newest = number;
      }
    }
    return page;
  }

  /** Call after a page's count fell: an empty page other than the newest goes. */
  emptied(seq: number, page: P): void {
    const number = seq >>> PageSize.Bits;
    if (page.count === 0 && number !== this.newest) this.drop(number);
  }

  /** Drops an empty page (its slots are all empty again, so it can be the spare). */
  private drop(number: number): void {
    this.spare ??= this.pages.get(number);
    this.pages.delete(number);
    if (number === this.hotNumber) {
      this.hotNumber = -1;
      this.hot = undefined;
    } else if (number === this.warmNumber) {
      this.warmNumber = -1;
      this.warm = undefined;
    }
  }

  /** Every page, lowest seqs first. */
  *inOrder(): IterableIterator<P> {
    const numbers = [...this.pages.keys()].sort((a, b) => a - b);
    for (const number of numbers) yield this.pages.get(number)!;
  }
}

interface Page<T> {
  readonly slots: (T | undefined)[];
  readonly times: Float64Array;
  count: number;
}

/**
 * Things with a sequence number (live jobs) by that number, each with a time beside it (a
 * job's submission). The time sits in the page rather than on the item: a double field of
 * an object is a boxed number of its own, 16 bytes more per job than a slot of an array.
 */
export class SeqIndex<T extends { readonly seq: number }> {
  private readonly pages = new SeqPages<Page<T>>((size) => ({
    slots: new Array<T | undefined>(size).fill(undefined),
    times: new Float64Array(size),
    count: 0,
  }));
  size = 0;

  get(seq: number): T | undefined {
    return this.pages.of(seq)?.slots[slotOf(seq)];
  }

  /** The time kept beside the item under `seq` (0 when there is none). */
  time(seq: number): number {
    return this.pages.of(seq)?.times[slotOf(seq)] ?? 0;
  }

  set(item: T, time: number): void {
    const page = this.pages.for(item.seq);
    page.slots[slotOf(item.seq)] = item;
    page.times[slotOf(item.seq)] = time;
    page.count++;
    this.size++;
  }

  delete(item: T): void {
    const page = this.pages.of(item.seq);
    if (page === undefined || page.slots[slotOf(item.seq)] !== item) return;
    page.slots[slotOf(item.seq)] = undefined;
    page.count--;
    this.size--;
    this.pages.emptied(item.seq, page);
  }

  *values(): IterableIterator<T> {
    for (const page of this.pages.inOrder()) {
      for (const item of page.slots) if (item !== undefined) yield item;
    }
  }
}
