/**
 * Below this size an allocation is not worth a copy to release: small reads, and Node 20's
 * pool slabs (8 KiB), cost little to keep. Node 24's slabs are 64 KiB: a small view of one
 * is copied like a small view of a large read, since it may be what keeps the slab alive.
 */
const SMALL_BACKING = 16 * 1024;

/**
 * The one rule for keeping bytes the decoder delivered (decision 19). A packet's `data` is a
 * view of the socket read it arrived in (or, when it spanned reads, of the decoder's one
 * copy). Node allocates every read afresh, so the view stays valid; keeping it only keeps
 * its whole read alive. So a view is copied when it would pin a large allocation (over
 * 16 KiB) of which it is less than half; otherwise it is kept as it is, without a copy.
 *
 * Call it where a listener keeps the bytes beyond the turn: a queued job's payload, a
 * result handed to application code, a job handed to a handler. Bytes written on within the
 * turn need no call.
 */
export function owned(view: Buffer): Buffer {
  const backing = view.buffer.byteLength;
  return backing > SMALL_BACKING && view.length < backing / 2 ? Buffer.from(view) : view;
}
