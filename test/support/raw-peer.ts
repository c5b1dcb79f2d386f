import { Decoder, encodeRequest, type Packet, type PacketName } from '@geartrain/protocol';
import { createConnection, type Socket } from 'node:net';

/**
 * A Gearman connection that speaks raw packets, for scenarios that real libraries cannot
 * stage (a worker that never reads again, a packet without its separator). Every wait is
 * on an arriving packet or the socket's close, bounded in time; nothing sleeps.
 */
export class RawPeer {
  readonly packets: Packet[] = [];
  closed = false;
  private readonly socket: Socket;
  private readonly waiters = new Set<() => void>();
  private readonly listeners: ((packet: Packet) => void)[] = [];
  private readonly decoder = new Decoder(
    {
      packet: (p) => {
        this.packets.push(p);
        for (const listener of this.listeners) listener(p);
        this.notify();
      },
      text: () => undefined,
      error: () => undefined,
    },
    { text: false },
  );

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    const onClose = () => {
      this.closed = true;
      this.notify();
    };
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  send(...packets: Packet[]): this {
    for (const p of packets) this.socket.write(encodeRequest(p));
    return this;
  }

  /** Writes bytes as they are (a packet the encoder would not make). */
  sendRaw(bytes: Buffer): this {
    this.socket.write(bytes);
    return this;
  }

  /** Calls `listener` for every later packet of a type (a worker answering NOOP, say). */
  on<N extends PacketName>(
    type: N,
    listener: (packet: Extract<Packet, { type: N }>) => void,
  ): this {
    this.listeners.push((p) => {
      if (p.type === type) listener(p as Extract<Packet, { type: N }>);
    });
    return this;
  }

  /** Packets of one type received so far. */
  received<N extends PacketName>(type: N): Extract<Packet, { type: N }>[] {
    return this.packets.filter((p): p is Extract<Packet, { type: N }> => p.type === type);
  }

  /** Resolves when `done()` holds; rejects after `ms` or when it cannot hold any more. */
  until(done: () => boolean, what: string, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) {
          finish();
          resolve();
        } else if (this.closed) {
          finish();
          reject(new Error(`connection closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the `count`th packet of a type and returns it. */
  async next<N extends PacketName>(
    type: N,
    count = 1,
    ms?: number,
  ): Promise<Extract<Packet, { type: N }>> {
    await this.until(() => this.received(type).length >= count, `${type} #${count}`, ms);
    return this.received(type)[count - 1]!;
  }

  /**
   * A round trip: once the server has echoed, it has handled everything sent before on this
   * connection (it answers in order).
   */
  async barrier(): Promise<void> {
    const count = this.received('ECHO_RES').length + 1;
    this.send({ type: 'ECHO_REQ', data: Buffer.from('barrier') });
    await this.next('ECHO_RES', count);
  }

  /** Resolves when the server closes the connection (rejects after `ms`). */
  async whenClosed(ms = 5000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops reading: the server's writes pile up unread, as with a hung or forked worker. */
  stopReading(): void {
    this.socket.pause();
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  close(): void {
    this.socket.destroy();
  }
}
