import { PacketWriter, type Packet } from '@geartrain/protocol';
import type { Duplex } from 'node:stream';

/**
 * A reply whose content is not known yet: JOB_CREATED waiting for a job store write, a
 * STATUS_RES waiting for a shared queue, or an admin reply waiting for the job server.
 */
export interface Slot {
  fill(reply: Packet | string): void;
}

class PendingSlot implements Slot {
  reply: Packet | string | null = null;

  constructor(private readonly output: Output) {}

  fill(reply: Packet | string): void {
    this.reply = reply;
    this.output.schedule();
  }
}

type Item = Packet | string | PendingSlot;

/**
 * What a connection sends, in order. Replies are queued during a turn of the event loop and
 * written together at its end: every packet of the turn in one buffer (large data blobs as
 * their own chunks), between `cork()` and `uncork()`. A reserved slot holds back everything
 * after it until it is filled, so JOB_CREATED answers stay in submission order (libgearman
 * matches them by order) and no WORK_* for a job can overtake its JOB_CREATED.
 */
export class Output {
  private readonly items: Item[] = [];
  private readonly chunks: Buffer[] = [];
  private scheduled = false;
  private closed = false;
  private readonly writer = new PacketWriter('RES');

  constructor(
    private readonly stream: Duplex,
    private readonly onBackpressure: () => void,
    private readonly onEncodingError: (error: unknown, packet: Packet) => void,
  ) {}

  send(packet: Packet): void {
    if (this.closed) return;
    this.items.push(packet);
    this.schedule();
  }

  /** An admin reply; it must reach the peer in one write (gearadmin reads until quiet). */
  sendText(text: string): void {
    if (this.closed) return;
    this.items.push(text);
    this.schedule();
  }

  reserve(): Slot {
    const slot = new PendingSlot(this);
    this.items.push(slot);
    return slot;
  }

  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.flushTask);
  }

  /** The end-of-turn flush, made once (not a closure per turn). */
  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Writes everything that can go now. */
  flush(): void {
    const items = this.items;
    if (this.closed || items.length === 0) return;
    // Reused from turn to turn (emptied before the writes, which keep only the Buffers).
    const chunks = this.chunks;
    let index = 0;
    for (; index < items.length; index++) {
      let item = items[index]!;
      if (item instanceof PendingSlot) {
        if (item.reply === null) break;
        item = item.reply;
      }
      if (typeof item === 'string') {
        this.writer.flushInto(chunks);
        chunks.push(Buffer.from(item, 'utf8'));
      } else {
        this.write(item);
      }
    }
    this.writer.flushInto(chunks);
    if (index === items.length) items.length = 0;
    else items.splice(0, index);
    const count = chunks.length;
    if (count === 0) return;
    const stream = this.stream;
    let ok = true;
    if (count === 1) {
      const chunk = chunks[0]!;
      chunks.length = 0;
      ok = stream.write(chunk);
    } else {
      const batch = chunks.splice(0, count);
      stream.cork();
      for (const chunk of batch) ok = stream.write(chunk);
      stream.uncork();
    }
    if (!ok) this.onBackpressure();
  }

  /**
   * Queues a packet for the batch. One that cannot be framed (a bug: handlers must not echo
   * unframeable arguments) is reported and dropped: flushing runs outside any handler, where
   * a throw would bring the whole process down.
   */
  private write(packet: Packet): void {
    try {
      this.writer.write(packet);
    } catch (error) {
      this.onEncodingError(error, packet);
    }
  }

  /** Drops whatever is queued; nothing is written after this. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
  }
}
