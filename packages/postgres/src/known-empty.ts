/**
 * Functions whose last claim found fewer jobs than it asked for, and of which nothing was
 * heard since (no notification, no submission here, no delayed job come due): a claim for
 * them is answered without a query, so the backstop poll of an idle node costs the database
 * nothing, and the heartbeat looks for their jobs instead, about once a second (a lost
 * notification is found there). Issue 31, item 4: an idle node makes at most one query a
 * second, and that one is the heartbeat.
 */
export class KnownEmpty {
  private readonly names = new Set<string>();
  /** How many times something was heard: a claim's answer older than the last is not used. */
  private heard = 0;

  /** `limit`: functions kept at most (the heartbeat probes each). */
  constructor(private readonly limit: number) {}

  /** Something was heard of these functions (null: of any): they may have jobs now. */
  heardOf(names: readonly string[] | null): void {
    this.heard++;
    if (names === null) this.names.clear();
    else for (const name of names) this.names.delete(name);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** What a claim notes when it is sent, for {@link found}. */
  mark(): number {
    return this.heard;
  }

  /**
   * A claim sent at `mark` for `asked` found too few jobs of `short`. If anything was heard
   * meanwhile, its answer may be out of date, and nothing is noted.
   */
  found(asked: Iterable<string>, short: readonly string[], mark: number): void {
    if (mark !== this.heard) return;
    for (const name of asked) this.names.delete(name);
    for (const name of short) {
      if (this.names.size >= this.limit) break;
      this.names.add(name);
    }
  }

  /** The functions the heartbeat is to look at. */
  list(): string[] {
    return [...this.names];
  }
}
