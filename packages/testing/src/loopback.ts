import {
  Decoder,
  encodeRequest,
  type Magic,
  type Packet,
  type PacketName,
  type ProtocolError,
} from '@geartrain/protocol';
import { duplexPair, type Duplex } from 'node:stream';

/** Anything that serves Gearman on a duplex stream (`GearmanServer` of `@geartrain/tcp`). */
export interface StreamServer {
  handle(stream: Duplex): unknown;
}

/** What came back from the server, in order. */
export type Received =
  | { readonly kind: 'packet'; readonly packet: Packet; readonly magic: Magic }
  | { readonly kind: 'text'; readonly line: string }
  | { readonly kind: 'error'; readonly error: ProtocolError };

/**
 * A Gearman peer that speaks real bytes to a server through an in-memory duplex pair, no
 * socket: for adapter tests. Send packets, admin lines or raw bytes; read what comes back.
 */
export class Loopback {
  readonly received: Received[] = [];
  private readonly stream: Duplex;
  private readonly waiters: (() => void)[] = [];
  private cursor = 0;
  private ended = false;

  constructor(server: StreamServer) {
    const [client, peer] = duplexPair();
    this.stream = client;
    server.handle(peer);
    const decoder = new Decoder({
      packet: (packet, magic) => this.push({ kind: 'packet', packet: copy(packet), magic }),
      text: (line) => this.push({ kind: 'text', line }),
      error: (error) => this.push({ kind: 'error', error }),
    });
    client.on('data', (chunk: Buffer) => decoder.push(chunk));
    client.on('end', () => {
      this.ended = true;
      this.wake();
    });
    client.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Whether the server closed the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** Sends request packets (`\0REQ`). */
  send(...packets: Packet[]): this {
    for (const packet of packets) this.stream.write(encodeRequest(packet));
    return this;
  }

  /** Sends an admin text command (`\n` added). */
  command(line: string): this {
    this.stream.write(`${line}\n`);
    return this;
  }

  /** Sends raw bytes, e.g. a malformed packet. */
  write(bytes: Buffer | string): this {
    this.stream.write(bytes);
    return this;
  }

  /** The next thing received (waiting at most `timeout` ms). */
  async next(timeout = 2000): Promise<Received> {
    const deadline = Date.now() + timeout;
    while (this.cursor >= this.received.length) {
      if (this.ended) throw new Error('the server closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing received within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.cursor++]!;
  }

  /** The next packet; fails if something else comes, or a packet of another type than `type`. */
  async packet<N extends PacketName>(
    type?: N,
    timeout?: number,
  ): Promise<Extract<Packet, { type: N }>> {
    const received = await this.next(timeout);
    if (received.kind !== 'packet') throw new Error(`expected a packet, got ${received.kind}`);
    if (type !== undefined && received.packet.type !== type) {
      throw new Error(`expected ${type}, got ${received.packet.type}`);
    }
    return received.packet as Extract<Packet, { type: N }>;
  }

  /** The next admin text line. */
  async line(timeout?: number): Promise<string> {
    const received = await this.next(timeout);
    if (received.kind !== 'text') throw new Error(`expected a text line, got ${received.kind}`);
    return received.line;
  }

  /** Sends one request and returns the next packet (its reply). */
  async request<N extends PacketName>(
    packet: Packet,
    reply?: N,
  ): Promise<Extract<Packet, { type: N }>> {
    this.send(packet);
    return this.packet(reply);
  }

  /** Ends the connection from this side. */
  close(): void {
    this.stream.end();
  }

  private push(received: Received): void {
    this.received.push(received);
    this.wake();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Decoded data may be a view of a chunk; keep a copy. */
function copy(packet: Packet): Packet {
  return 'data' in packet ? { ...packet, data: Buffer.from(packet.data) } : packet;
}

/** Opens a loopback connection to `server` (see {@link Loopback}). */
export function createLoopback(server: StreamServer): Loopback {
  return new Loopback(server);
}
