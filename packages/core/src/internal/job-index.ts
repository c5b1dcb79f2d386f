import type { Job } from './job.js';

const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;

interface Page {
  readonly slots: (Job | undefined)[];
  count: number;
}

/**
 * Live jobs by sequence number. Numbers only grow, so jobs are kept in pages of 1024 slots:
 * adding and removing a job is an array store, and the hash map of pages changes once per
 * 1024 jobs. (A Map keyed by job would grow and shrink its table on every job when few are
 * live.) The newest page is kept even when empty.
 */
export class JobIndex {
  private readonly pages = new Map<number, Page>();
  private newest = -1;
  size = 0;

  get(seq: number): Job | undefined {
    return this.pages.get(seq >>> PAGE_BITS)?.slots[seq & (PAGE_SIZE - 1)];
  }

  set(job: Job): void {
    const number = job.seq >>> PAGE_BITS;
    let page = this.pages.get(number);
    if (page === undefined) {
      page = { slots: new Array<Job | undefined>(PAGE_SIZE).fill(undefined), count: 0 };
      this.pages.set(number, page);
      if (number > this.newest) {
        const previous = this.pages.get(this.newest);
        if (previous !== undefined && previous.count === 0) this.pages.delete(this.newest);
        this.newest = number;
      }
    }
    page.slots[job.seq & (PAGE_SIZE - 1)] = job;
    page.count++;
    this.size++;
  }

  delete(job: Job): void {
    const number = job.seq >>> PAGE_BITS;
    const page = this.pages.get(number);
    if (page === undefined || page.slots[job.seq & (PAGE_SIZE - 1)] !== job) return;
    page.slots[job.seq & (PAGE_SIZE - 1)] = undefined;
    page.count--;
    this.size--;
    if (page.count === 0 && number !== this.newest) this.pages.delete(number);
  }

  *values(): IterableIterator<Job> {
    const numbers = [...this.pages.keys()].sort((a, b) => a - b);
    for (const number of numbers) {
      for (const job of this.pages.get(number)!.slots) if (job !== undefined) yield job;
    }
  }
}
