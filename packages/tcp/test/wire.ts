import { Decoder, encodeRequest, type Packet } from '@geartrain/protocol';
import { duplexPair, type Duplex } from 'node:stream';
import type { GearmanServer } from '../src/index.js';

/**
 * A peer speaking real Gearman bytes to a server over `duplexPair()`: what it receives is
 * decoded as a client would, and kept raw for byte-exact checks.
 */
export class Wire {
  readonly packets: Packet[] = [];
  raw = Buffer.alloc(0);
  closed = false;
  readonly end: Duplex;
  readonly serverEnd: Duplex;
  private waiters: (() => void)[] = [];
  // Every chunk goes to the decoder, which tells binary packets from admin text lines per
  // message (a packet split across chunks is reassembled); text is checked in `raw`.
  private readonly decoder = new Decoder({
    packet: (packet) => this.packets.push(packet),
    text: () => undefined,
    error: () => undefined,
  });

  constructor(server: GearmanServer, address = '127.0.0.1') {
    const [end, serverEnd] = duplexPair();
    this.end = end;
    this.serverEnd = serverEnd;
    server.handle(serverEnd, address);
    end.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.decoder.push(chunk);
      this.notify();
    });
    end.on('close', () => {
      this.closed = true;
      this.notify();
    });
    end.on('end', () => {
      this.closed = true;
      this.notify();
    });
  }

  send(...packets: Packet[]): this {
    this.end.write(Buffer.concat(packets.map((p) => encodeRequest(p))));
    return this;
  }

  sendRaw(bytes: Buffer | string): this {
    this.end.write(bytes);
    return this;
  }

  /** Waits until `count` packets have arrived (bounded to 2 s), and returns them all. */
  async packetsAfter(count: number): Promise<Packet[]> {
    await this.until(() => this.packets.length >= count);
    return this.packets;
  }

  /** Waits until the raw bytes received contain `text`. */
  async text(text: string): Promise<string> {
    await this.until(() => this.raw.includes(text));
    return this.raw.toString('utf8');
  }

  /** Resolves when `done()` holds, checked whenever bytes arrive or the stream ends (2 s at most). */
  async until(done: () => boolean): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the server')), 2000);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Lets the server process what was sent (a few turns of the event loop). */
  static async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
