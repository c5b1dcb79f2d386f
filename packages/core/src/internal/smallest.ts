/**
 * The first `limit` of `items` in the order `before` gives, sorted: one pass keeping a sorted
 * array of at most `limit` (an item past the last kept one costs one comparison), so listing
 * the first 100 of a million delayed jobs neither sorts nor copies them all.
 */
export function smallest<T>(
  items: Iterable<T>,
  limit: number,
  before: (a: T, b: T) => boolean,
  /** Which items count (the others are passed over). */
  keep: (item: T) => boolean = () => true,
): T[] {
  const kept: T[] = [];
  if (limit <= 0) return kept;
  for (const item of items) {
    if (!keep(item) || (kept.length === limit && !before(item, kept[limit - 1]!))) continue;
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(item, kept[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    kept.splice(lo, 0, item);
    if (kept.length > limit) kept.pop();
  }
  return kept;
}
