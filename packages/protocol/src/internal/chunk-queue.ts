/**
 * A queue of received chunks that hands bytes out without copying them when it can.
 *
 * `consume(n)` returns a `subarray` view when the `n` bytes lie inside one chunk and
 * copies them once into a fresh Buffer only when they span chunks. Chunks are never
 * concatenated as they arrive.
 */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes. */
  private head = 0;
  /** Read position inside `chunks[head]`. */
  private offset = 0;
  /** Unread bytes in the queue. */
  length = 0;
  /** Bytes copied because a consumed range spanned chunks (for tests and stats). */
  copiedBytes = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The byte at `index` bytes past the read position; the caller checks `index < length`. */
  byteAt(index: number): number {
    let i = this.head;
    let at = this.offset + index;
    for (;;) {
      const chunk = this.chunks[i]!;
      if (at < chunk.length) return chunk[at]!;
      at -= chunk.length;
      i++;
    }
  }

  /** A big-endian uint32 starting `index` bytes past the read position. */
  uint32At(index: number): number {
    const chunk = this.chunks[this.head]!;
    const at = this.offset + index;
    if (at + 4 <= chunk.length) return chunk.readUInt32BE(at);
    return (
      ((this.byteAt(index) << 24) |
        (this.byteAt(index + 1) << 16) |
        (this.byteAt(index + 2) << 8) |
        this.byteAt(index + 3)) >>>
      0
    );
  }

  /**
   * Position (relative to the read position) of the first `byte` among the first `limit`
   * unread bytes, or -1.
   */
  indexOf(byte: number, limit: number): number {
    let seen = 0;
    let start = this.offset;
    for (let i = this.head; i < this.chunks.length && seen < limit; i++) {
      const chunk = this.chunks[i]!;
      const end = Math.min(chunk.length, start + (limit - seen));
      const found = chunk.indexOf(byte, start);
      if (found !== -1 && found < end) return seen + (found - start);
      seen += end - start;
      start = 0;
    }
    return -1;
  }

  /** Drops `n` unread bytes; the caller checks `n <= length`. */
  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head]!;
      const available = chunk.length - this.offset;
      if (n < available) {
        this.offset += n;
        return;
      }
      n -= available;
      this.advanceChunk();
    }
  }

  /** Takes `n` unread bytes: a view when they lie in one chunk, one copy otherwise. */
  consume(n: number): Buffer {
    const chunk = this.chunks[this.head]!;
    const start = this.offset;
    if (start + n <= chunk.length) {
      this.length -= n;
      if (start + n === chunk.length) this.advanceChunk();
      else this.offset = start + n;
      return chunk.subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    this.copyInto(out, n);
    return out;
  }

  /** Copies the first `n` unread bytes into `target` (from its start) and drops them. */
  copyInto(target: Buffer, n: number): void {
    let written = 0;
    while (written < n) {
      const current = this.chunks[this.head]!;
      const take = Math.min(n - written, current.length - this.offset);
      current.copy(target, written, this.offset, this.offset + take);
      written += take;
      if (this.offset + take === current.length) this.advanceChunk();
      else this.offset += take;
    }
    this.length -= n;
    this.copiedBytes += n;
  }

  /** Releases every chunk. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.length = 0;
  }

  private advanceChunk(): void {
    this.head++;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
